"""snnc's own CI regression: every golden case rebuilt from seeds matches its golden file exactly."""

from __future__ import annotations

import importlib.util

import pytest
from regenerate import CASES  # tests/golden/regenerate.py (path set in conftest)


def _params():
    for case in CASES:
        marks = [pytest.mark.slow, pytest.mark.lava] if case.backend == "lava" else []
        yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_golden_case_matches(case, build_case, snnc_regress):
    if case.backend == "lava" and importlib.util.find_spec("snnc.backends.lava") is None:
        pytest.skip("snnc.backends.lava is not installed")
    assert case.golden.exists(), f"{case.golden} missing: run tests/golden/regenerate.py --only {case.name}"
    outcome = snnc_regress(build_case(case), case.golden, backend=case.backend, timing=case.timing)
    assert outcome.ok and not outcome.lines
    # the golden file is not a trivial all-silent record: some layer fires
    assert any(layer["total"] > 0 for layer in outcome.golden["layers"].values())


@pytest.mark.parametrize("a, b", [
    ("demo-vanilla-float-cpu", "demo-vanilla-float-onnx"), ("demo-asa-float-cpu", "demo-asa-float-onnx"),
    ("demo-asa-lavatarget-cpu", "demo-asa-lavatarget-onnx"), ("demo-asa-lavatarget-cpu", "demo-asa-fixed-lava"),
])
def test_golden_files_agree_across_backends(a, b):
    """The same artifact on two backends recorded the very same counts (CPU = ONNX = Lava)."""
    import json

    from regenerate import GOLDEN_DIR

    ga, gb = (json.loads((GOLDEN_DIR / f"{n}.json").read_text()) for n in (a, b))
    assert ga["graph_sha256"] == gb["graph_sha256"] and ga["inputs"] == gb["inputs"]
    assert ga["layers"] == gb["layers"] and ga["synops"] == gb["synops"]
