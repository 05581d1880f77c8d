"""``snnc compile --target loihi2`` refuses what a Loihi 2 chip's stock processes cannot host, before any
pass runs and before anything is written: one line ``snnc: error: ...`` naming the node and the way out,
exit code 2, no artifact directory. Also: importing the target does not import Lava."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import nir
import pytest

from snnc_testing import run_cli, tiny_checkpoint

pytestmark = pytest.mark.lava


def _refused(capsys, *args) -> str:
    code, out, err = run_cli(capsys, "compile", *args)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("snnc: error: "), (code, out, err)
    return lines[0]


@pytest.mark.parametrize("granularity, words", [("t", "per-t gains"), ("tc", "per-(t, c) gains")])
def test_time_varying_gains_are_refused(capsys, tmp_path, granularity, words):
    ckpt = tiny_checkpoint(tmp_path / "tiny.pt")
    line = _refused(capsys, ckpt, "--target", "loihi2", "--gain-granularity", granularity, "--calibrate", "2",
                    "--holdout", "0", "-o", tmp_path / "art")
    assert "node 'b0_attn' (ASA)" in line and words in line and "way out: --gain-granularity c" in line
    assert not (tmp_path / "art").exists()


def test_rectifying_gain_is_refused(capsys, tmp_path):
    """MA-SNN channel attention compiled in float keeps its ReLU as a rectifying TimeGain; that graph on loihi2."""
    import torch

    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    torch.manual_seed(0)
    model = build_model({**demo_config("ca"), "widths": [4, 4, 4], "fc_hidden": 4, "T": 2, "c_ratio": 2}).eval()
    save_checkpoint(tmp_path / "ca.pt", model, hparams={}, train_meta={})
    code, _, err = run_cli(capsys, "compile", tmp_path / "ca.pt", "--target", "cpu", "--gain-granularity", "c",
                           "--calibrate", "2", "--holdout", "0", "-o", tmp_path / "ca-cpu")
    assert code == 0, err
    line = _refused(capsys, tmp_path / "ca-cpu" / "graph.nir", "--target", "loihi2", "--calibrate", "2",
                    "--holdout", "0", "-o", tmp_path / "art")
    assert "node 'b0_attn' (TimeGain) rectifies its input" in line and "way out:" in line
    assert not (tmp_path / "art").exists()


def test_cuba_lif_is_refused(capsys, tmp_path):
    n = 3
    ones = np.ones(n, np.float32)
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([n])),
               "fc": nir.Affine(weight=np.eye(n, dtype=np.float32), bias=np.zeros(n, np.float32)),
               "cuba": nir.CubaLIF(tau_syn=ones * 5e-3, tau_mem=ones * 1e-2, r=ones, v_leak=0 * ones,
                                   v_threshold=ones, v_reset=0 * ones, w_in=ones),
               "output": nir.Output(output_type=np.array([n]))},
        edges=[("input", "fc"), ("fc", "cuba"), ("cuba", "output")])
    nir.write(tmp_path / "cuba.nir", graph)
    line = _refused(capsys, tmp_path / "cuba.nir", "--target", "loihi2", "--dt", "1e-3", "--T", "4", "--calibrate",
                    "0", "--holdout", "0", "-o", tmp_path / "art")
    assert "node 'cuba' (CubaLIF)" in line and "way out:" in line
    assert not (tmp_path / "art").exists()


def test_float_is_refused(capsys, tmp_path):
    line = _refused(capsys, tiny_checkpoint(tmp_path / "tiny.pt"), "--target", "loihi2", "--float", "-o",
                    tmp_path / "art")
    assert line.startswith("snnc: error: --float:") and "fixed-point" in line and "way out:" in line


def test_importing_the_target_does_not_import_lava():
    code = ("import sys, snnc, snnc.backends.loihi2, snnc.backends.loihi2.check; "
            "from snnc.backends.registry import get_backend; get_backend('loihi2'); "
            "bad = sorted(m for m in sys.modules if m == 'lava' or m.startswith('lava.')); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lava_report_says_simulation_only_and_names_loihi2(capsys, tmp_path):
    import json

    ckpt = tiny_checkpoint(tmp_path / "tiny.pt")
    code, out, err = run_cli(capsys, "compile", ckpt, "--target", "lava", "--calibrate", "2", "--holdout", "0",
                             "-o", tmp_path / "art")
    assert code == 0, err
    notes = json.loads((tmp_path / "art" / "report.json").read_text())["notes"]
    [note] = [n for n in notes if n.startswith("lava: ")]
    assert "simulation-only" in note and "--target loihi2" in note and note in out


def test_subtractive_reset_is_refused(capsys, tmp_path, nir_reference):
    """cnn_sinabs.nir (NIR 0.2.0: IF resets by subtraction) cannot reset the way Loihi's LIF does."""
    line = _refused(capsys, nir_reference / "02_cnn" / "cnn_sinabs.nir", "--target", "loihi2", "--T", "4",
                    "--calibrate", "0", "--holdout", "0", "-o", tmp_path / "art")
    assert "(IF) resets by subtraction" in line and "way out:" in line
