"""Fixtures for the regression tests: the golden cases' artifacts (built once per session) and the
``snnc_regress`` fixture comes from snnc's pytest plugin (pytest11 entry point ``snnc_regress``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))
import regenerate  # noqa: E402  (tests/golden/regenerate.py)


@pytest.fixture(scope="session")
def golden_workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("golden-artifacts")


@pytest.fixture(scope="session")
def build_case(golden_workdir):
    """``build_case(case) -> artifact path`` (cached in one session directory)."""
    def build(case: "regenerate.Case") -> Path:
        if case.compile is None and not regenerate.NIR_REFERENCE.exists():
            pytest.skip(f"{regenerate.NIR_REFERENCE} not present")
        return regenerate.build_artifact(case, golden_workdir)

    return build
