"""Root test configuration: deterministic, quiet, 2-thread torch; shared paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NIR_REFERENCE = SHARED / "nir-reference"


@pytest.fixture(scope="session")
def nir_reference() -> Path:
    """The third-party NIR graphs and traces (../shared/nir-reference)."""
    if not NIR_REFERENCE.exists():
        pytest.skip(f"{NIR_REFERENCE} not present")
    return NIR_REFERENCE


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
