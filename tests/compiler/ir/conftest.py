"""Shared fixtures for the IR tests: tiny models of every snnc model, vanilla and ASA."""

from __future__ import annotations

import pytest

from ir_tiny_models import TINY_CONFIGS, tiny_model


#: attention specs ("asa:<squeeze or excitation>" for the ablations): every one on LIF-SNN-3, a few elsewhere
SPECS = {"lif-snn-3": ("none", "asa", "ta", "ca", "sa", "tcsa", "asa:s7", "asa:s8", "asa:eca", "asa:simam"),
         "lif-snn-5": ("none", "asa", "tcsa", "asa:eca"), "res-snn-18": ("none", "asa", "tcsa", "asa:s8")}


@pytest.fixture(params=[(n, a) for n in TINY_CONFIGS for a in SPECS[n]], ids=lambda p: f"{p[0]}-{p[1]}")
def tiny(request):
    """(name, attention spec, model) for every snnc model: vanilla, ASA and its ablations, MA-SNN attention."""
    name, attention = request.param
    return name, attention, tiny_model(name, attention)
