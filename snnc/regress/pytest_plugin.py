"""pytest plugin (entry point ``snnc_regress``): the ``snnc_regress`` fixture.

    def test_model(snnc_regress):
        snnc_regress("build/model", "tests/golden/model.json")

runs the artifact on the golden file's seeded inputs and raises ``AssertionError`` with the
difference lines (``layer b1 t=3: expected 120, got 121``) on a mismatch. Keyword arguments are
those of :func:`snnc.regress.check.regress` (backend, timing, samples, seed, rtol, atol, update).
Set ``SNNC_REGRESS_UPDATE=1`` to rewrite the golden files instead of comparing.

Importing this module imports only pytest (it is loaded by every pytest run).
"""

from __future__ import annotations

import os
from typing import Any, Callable

import pytest


def check_regression(artifact: Any, golden: Any, **kwargs: Any):
    """Compare (or update) and raise ``AssertionError`` with the diff on a mismatch; returns the outcome."""
    from snnc.regress.check import regress

    if os.environ.get("SNNC_REGRESS_UPDATE") == "1":
        kwargs.setdefault("update", True)
    outcome = regress(artifact, golden, **kwargs)
    if not outcome.ok:
        raise AssertionError(f"{artifact} differs from {golden}:\n" + "\n".join(outcome.lines))
    return outcome


@pytest.fixture
def snnc_regress() -> Callable[..., Any]:
    """``snnc_regress(artifact, golden, **options)``: see the module docstring."""
    return check_regression
