"""Shared fixtures for the IR tests: tiny models of every snnc model, vanilla and ASA."""

from __future__ import annotations

import pytest

from ir_tiny_models import TINY_CONFIGS, tiny_model


@pytest.fixture(params=[(n, a) for n in TINY_CONFIGS for a in ("none", "asa")], ids=lambda p: f"{p[0]}-{p[1]}")
def tiny(request):
    """(name, attention, model) for every snnc model, vanilla and ASA."""
    name, attention = request.param
    return name, attention, tiny_model(name, attention)
