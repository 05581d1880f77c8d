"""Shared fixtures of the ONNX backend tests: the golden cases' compiled demo artifacts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "golden"))
import regenerate  # noqa: E402  (tests/golden/regenerate.py)


@pytest.fixture(scope="session")
def demo_artifact(tmp_path_factory):
    """``demo_artifact(attention, numerics) -> artifact dir``: seeded demo model through the pipeline."""
    work = tmp_path_factory.mktemp("onnx-demo")

    def build(attention: str, numerics: str) -> Path:
        case = regenerate.Case(f"x-{attention}-{numerics}", f"demo-{attention}", numerics, "cpu")
        return regenerate.build_artifact(case, work)

    return build
