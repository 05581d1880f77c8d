"""``snnc compile``: bad input gives one line and writes nothing; a good run writes the artifact."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import nir
import pytest


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler" / "passes"))
from passes_helpers import tiny_model  # noqa: E402  (tests/compiler/passes/passes_helpers.py)
from snnc_testing import run_cli as _snnc


@pytest.fixture(scope="module")
def vanilla_ckpt(tmp_path_factory) -> Path:
    from snnc.models.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, tiny_model("none", input_size=[32, 32]), hparams={}, train_meta={})
    return path


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("snnc: error:"), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_unknown_target(capsys, tmp_path, vanilla_ckpt):
    code, _, err = _snnc(capsys, "compile", str(vanilla_ckpt), "--target", "tpu", "-o", str(tmp_path / "out"))
    _one_line_error(code, err, "--target", "tpu")
    assert list(tmp_path.iterdir()) == []


def test_calibrate_zero(capsys, tmp_path, vanilla_ckpt):
    """issue 13: a graph with nothing to calibrate compiles with --calibrate 0; one with ASA is refused."""
    from snnc.models.checkpoint import save_checkpoint

    code, _, err = _snnc(capsys, "compile", str(vanilla_ckpt), "--target", "cpu", "--calibrate", "0",
                         "--holdout", "0", "-o", str(tmp_path / "out"))
    assert code == 0, err
    asa = tmp_path / "asa.pt"
    save_checkpoint(asa, tiny_model("asa", input_size=[32, 32]), hparams={}, train_meta={})
    code, _, err = _snnc(capsys, "compile", str(asa), "--target", "cpu", "--calibrate", "0",
                         "-o", str(tmp_path / "out2"))
    _one_line_error(code, err, "--calibrate 0", "calibration")
    assert not (tmp_path / "out2").exists()


def test_missing_file_and_unknown_pass(capsys, tmp_path, vanilla_ckpt):
    code, _, err = _snnc(capsys, "compile", str(tmp_path / "nope.pt"), "--target", "cpu", "-o", str(tmp_path / "o"))
    _one_line_error(code, err, "nope.pt")
    code, _, err = _snnc(capsys, "compile", str(vanilla_ckpt), "--target", "cpu", "--passes", "fold_batchnorm,zap",
                         "-o", str(tmp_path / "o"))
    _one_line_error(code, err, "--passes", "zap")
    assert list(tmp_path.iterdir()) == []


def test_unsupported_node(capsys, tmp_path):
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([3])), "delay": nir.Delay(delay=np.ones(3)),
                            "output": nir.Output(output_type=np.array([3]))},
                     edges=[("input", "delay"), ("delay", "output")])
    path = tmp_path / "delay.nir"
    nir.write(str(path), g)
    code, _, err = _snnc(capsys, "compile", str(path), "--target", "cpu", "-o", str(tmp_path / "out"))
    _one_line_error(code, err, "delay", "Delay")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["delay.nir"]


def test_failing_pass_leaves_nothing(capsys, tmp_path, vanilla_ckpt):
    out = tmp_path / "out"
    code, _, err = _snnc(capsys, "compile", str(vanilla_ckpt), "--target", "cpu", "--passes", "quantize",
                         "--calibrate", "2", "--holdout", "0", "-o", str(out))
    _one_line_error(code, err, "pass 'quantize'", "b0_bn", "fold_batchnorm")
    assert list(tmp_path.iterdir()) == []


def test_compile_nir_target_writes_artifact(capsys, tmp_path, vanilla_ckpt):
    from snnc.compile_model import sha256_file
    from snnc.compiler.ir.serialize import read_graph

    out = tmp_path / "art"
    code, stdout, err = _snnc(capsys, "compile", str(vanilla_ckpt), "--target", "nir", "--holdout", "0",
                              "-o", str(out))
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == ["graph.nir", "manifest.json", "report.json", "report.md", "standard.nir"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0]["sha256"] == sha256_file(vanilla_ckpt)
    assert manifest["passes"] == ["fold_batchnorm", "fuse_pooling", "fuse_asa_gains", "fold_static_gains", "fold_lif_r"]
    assert manifest["target"] == "nir" and manifest["versions"]["nir"] and manifest["created"]
    report = json.loads((out / "report.json").read_text())
    assert report["nodes_after"].get("BatchNorm", 0) == 0 and report["nodes_before"]["BatchNorm"] == 3
    assert [p["name"] for p in report["passes"]] == manifest["passes"]
    g = read_graph(out / "graph.nir")
    assert g.metadata["snnc"]["passes"] == manifest["passes"]
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]  # no temp leftovers
    std = nir.read(str(out / "standard.nir"))
    assert "b0_conv" in std.nodes


@pytest.fixture(scope="module")
def asa_ckpt(tmp_path_factory) -> Path:
    from snnc.models.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "tiny_asa.pt"
    save_checkpoint(path, tiny_model("asa", input_size=[32, 32]), hparams={}, train_meta={})
    return path


def test_compile_asa_fixed_point_with_fidelity(capsys, tmp_path, asa_ckpt):
    pytest.importorskip("snnc.backends.cpu")
    from snnc.compiler.ir.graph_utils import node_kind
    from snnc.compiler.ir.serialize import read_graph

    out = tmp_path / "art"
    code, stdout, err = _snnc(capsys, "compile", str(asa_ckpt), "--target", "cpu", "--fixed-point", "--calibrate", "3",
                              "--holdout", "3", "--gain-granularity", "t", "-o", str(out))
    assert code == 0, err
    assert "held-out accuracy" in stdout
    report = json.loads((out / "report.json").read_text())
    assert [p["name"] for p in report["passes"]] == ["fold_batchnorm", "fuse_pooling", "fuse_asa_gains",
                                                     "fold_static_gains", "quantize"]
    fid = report["fidelity"]
    assert fid["samples"] == 3 and set(fid["layers"]) == {f"b{i}_lif" for i in range(5)}
    assert 0.0 <= fid["accuracy"] <= 1.0 and 0.0 <= fid["prediction_agreement"] <= 1.0
    g = read_graph(out / "graph.nir")
    kinds = {node_kind(n) for n in g.nodes.values()}
    assert "LoihiLIF" in kinds and "ASA" not in kinds and "LIF" not in kinds
    assert g.nodes["b0_attn"].gain.shape == (4, 1, 1, 1) and g.nodes["b0_attn"].gain_mant.size == 4
    assert g.metadata["snnc"]["numerics"] == "fixed"
    assert "## Fidelity" in (out / "report.md").read_text()


def test_lava_exact_asa_refused(capsys, tmp_path, asa_ckpt):
    code, _, err = _snnc(capsys, "compile", str(asa_ckpt), "--target", "lava", "--asa-mode", "exact",
                         "-o", str(tmp_path / "o"))
    _one_line_error(code, err, "--asa-mode exact", "lava")
    assert list(tmp_path.iterdir()) == []
