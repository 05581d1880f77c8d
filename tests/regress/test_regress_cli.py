"""``snnc regress`` through the CLI: pass, a one-quantization-step weight change fails naming the layer,
reverting passes again; --update is atomic; bad golden files and flags give one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from regenerate import CASES, SAMPLES, SEED  # tests/golden/regenerate.py

from snnc_testing import run_cli as _snnc

CASE = {c.name: c for c in CASES}


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("snnc: error:"), err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def _bump_weight(artifact: Path, node: str, delta: float) -> None:
    """Add ``delta`` to one weight of ``node`` in ``artifact/graph.nir`` (rewritten in place, with the
    manifest rewritten as a recompile would: a file changed behind the manifest's back is refused)."""
    from snnc.artifact_manifest import read_manifest, write_manifest
    from snnc.compiler.ir import read_graph, write_graph

    g = read_graph(artifact / "graph.nir")
    w = np.array(g.nodes[node].weight, copy=True)
    w[0, 0, 1, 1] += delta  # the centre tap of the first kernel
    g.nodes[node].weight = w
    (artifact / "graph.nir").unlink()
    write_graph(artifact / "graph.nir", g)
    m = read_manifest(artifact)
    write_manifest(artifact, **{k: m[k] for k in ("target", "inputs", "passes", "options", "versions", "created")})


def test_weight_step_fails_then_revert_passes(capsys, tmp_path, build_case):
    case = CASE["demo-vanilla-fixed-cpu"]
    art = tmp_path / "model"
    shutil.copytree(build_case(case), art)
    code, out, err = _snnc(capsys, "regress", art, "--golden", case.golden)
    assert code == 0 and out.startswith("ok:"), err
    # one quantization step of an 8-bit even mantissa is 2 (docs/design.md §3.5)
    _bump_weight(art, "b0_conv", 2.0)
    code, out, err = _snnc(capsys, "regress", art, "--golden", case.golden)
    assert code == 1, (out, err)
    assert "Traceback" not in err
    assert "layer b0 t=" in err and "expected" in err and "got" in err
    _bump_weight(art, "b0_conv", -2.0)
    code, out, err = _snnc(capsys, "regress", art, "--golden", case.golden)
    assert code == 0, err


def test_update_writes_then_matches(capsys, tmp_path, build_case):
    art = build_case(CASE["demo-asa-float-cpu"])
    golden = tmp_path / "g.json"
    code, out, err = _snnc(capsys, "regress", art, "--golden", golden, "--update", "--samples", 2, "--seed", 3)
    assert code == 0 and golden.exists() and "wrote" in out, err
    data = json.loads(golden.read_text())
    assert data["inputs"]["samples"] == 2 and data["inputs"]["seed"] == 3 and data["inputs"]["T"] == 8
    assert data["backend"] == "cpu" and data["timing"] == "snnc" and data["numerics"] == "float"
    assert len(data["graph_sha256"]) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]  # no temp file left behind
    code, out, err = _snnc(capsys, "regress", art, "--golden", golden)  # samples/seed taken from the file
    assert code == 0, err
    # the same artifact on another backend reproduces the counts exactly (noted, not a failure)
    code, out, err = _snnc(capsys, "regress", art, "--golden", golden, "--backend", "onnx")
    assert code == 0 and "recorded backend 'cpu'; comparing the 'onnx' run" in err and out.startswith("ok:"), err
    # a different timing convention is not comparable: reported as a difference
    code, out, err = _snnc(capsys, "regress", art, "--golden", golden, "--timing", "lava")
    assert code == 1 and "timing: golden file has 'snnc', the run used 'lava'" in err


def test_different_inputs_reported_not_compared(capsys, build_case):
    case = CASE["demo-vanilla-float-cpu"]
    code, _, err = _snnc(capsys, "regress", build_case(case), "--golden", case.golden, "--samples", SAMPLES + 1)
    assert code == 1 and f"inputs: golden file has samples={SAMPLES}, the run used {SAMPLES + 1}" in err
    assert "layer " not in err


def test_float_tolerance_flags(capsys, tmp_path, build_case):
    case = CASE["demo-vanilla-float-cpu"]
    golden = tmp_path / "g.json"
    data = json.loads(case.golden.read_text())
    data["layers"]["b2"]["spikes_per_t"][3] += 1
    golden.write_text(json.dumps(data))
    art = build_case(case)
    code, _, err = _snnc(capsys, "regress", art, "--golden", golden)
    expected = data["layers"]["b2"]["spikes_per_t"][3]
    assert code == 1 and f"layer b2 t=3: expected {expected}, got {expected - 1}" in err
    code, _, err = _snnc(capsys, "regress", art, "--golden", golden, "--atol", "1")
    assert code == 0, err


def test_fixed_point_refuses_tolerance(capsys, build_case):
    case = CASE["demo-vanilla-fixed-cpu"]
    code, _, err = _snnc(capsys, "regress", build_case(case), "--golden", case.golden, "--rtol", "0.01")
    _one_line_error(code, err, "--rtol", "exactly")


@pytest.mark.parametrize("content, needle", [
    (None, "no such file"), ("{not json", "not a readable JSON"), ('{"format": "x"}', "not an snnc golden"),
])
def test_bad_golden_file(capsys, tmp_path, build_case, content, needle):
    golden = tmp_path / "g.json"
    if content is not None:
        golden.write_text(content)
    code, _, err = _snnc(capsys, "regress", build_case(CASE["demo-vanilla-float-cpu"]), "--golden", golden)
    _one_line_error(code, err, "--golden", needle)


def test_missing_artifact(capsys, tmp_path):
    code, _, err = _snnc(capsys, "regress", tmp_path / "nope", "--golden", tmp_path / "g.json")
    _one_line_error(code, err, "no such file")
    assert list(tmp_path.iterdir()) == []


def test_fixture_raises_assertion_with_diff(tmp_path, build_case, snnc_regress):
    case = CASE["demo-vanilla-float-cpu"]
    data = json.loads(case.golden.read_text())
    data["synops"]["b1_conv"]["total"] += 5
    golden = tmp_path / "g.json"
    golden.write_text(json.dumps(data))
    with pytest.raises(AssertionError, match=r"synops b1_conv: expected \d+, got \d+ \(-5\)"):
        snnc_regress(build_case(case), golden)
    assert snnc_regress(build_case(case), case.golden, samples=SAMPLES, seed=SEED).ok


def test_plugin_and_command_import_cheaply():
    """The pytest plugin is loaded by every pytest run and `snnc regress --help` must not import torch."""
    import subprocess
    import sys

    code = ("import sys, snnc.regress.pytest_plugin, snnc.commands.regress, snnc.backends.onnx; "
            "heavy = [m for m in ('torch', 'onnxruntime', 'lava', 'nir') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
