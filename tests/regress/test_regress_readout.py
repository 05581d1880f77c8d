"""``snnc regress`` under Lava timing: a new golden file records the pipeline-aware readout; a file without
``readout`` (every committed one) is an unshifted readout and still matches; the readouts never mix.

Oracle for the pipeline counts: on the lava-target demo artifact (a chain, every layer at one depth) the
pipeline readout is snnc timing exactly, so its per-step counts equal those of a golden file written under
snnc timing by the same command.
"""

from __future__ import annotations

import json

from regenerate import CASES  # tests/golden/regenerate.py

from snnc_testing import run_cli as _snnc

CASE = {c.name: c for c in CASES}


def test_pipeline_golden_is_snnc_timing_and_never_mixes_with_unshifted(capsys, tmp_path, build_case):
    case = CASE["demo-asa-lavatarget-cpu"]
    art = build_case(case)
    piped, snnc = tmp_path / "p.json", tmp_path / "s.json"
    code, out, err = _snnc(capsys, "regress", art, "--golden", piped, "--update", "--timing", "lava", "--samples", 2)
    assert code == 0, err
    code, out, err = _snnc(capsys, "regress", art, "--golden", snnc, "--update", "--timing", "snnc", "--samples", 2)
    assert code == 0, err
    p, s = json.loads(piped.read_text()), json.loads(snnc.read_text())
    assert p["timing"] == "lava" and p["readout"] == "pipeline" and "readout" not in s
    assert p["layers"] == s["layers"] and p["synops"] == s["synops"]
    assert sum(layer["total"] for layer in p["layers"].values()) > 0
    code, out, err = _snnc(capsys, "regress", art, "--golden", piped)  # the recorded readout is used
    assert code == 0 and "pipeline readout" in out, err
    code, out, err = _snnc(capsys, "regress", art, "--golden", piped, "--readout", "unshifted")
    assert code == 1 and "readout: golden file has 'pipeline', the run used 'unshifted'" in err


def test_committed_lava_timing_golden_is_read_as_unshifted(capsys, build_case):
    case = CASE["demo-asa-lavatarget-cpu"]
    assert "readout" not in json.loads(case.golden.read_text())
    code, out, err = _snnc(capsys, "regress", build_case(case), "--golden", case.golden)
    assert code == 0, err
    code, out, err = _snnc(capsys, "regress", build_case(case), "--golden", case.golden, "--readout", "pipeline")
    assert code == 1 and "readout: golden file has 'unshifted', the run used 'pipeline'" in err
