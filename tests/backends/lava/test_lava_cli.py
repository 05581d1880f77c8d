"""End to end through the CLI: ``snnc compile --target lava`` writes the Lava spec, and
``snnc simulate ARTIFACT --backend lava --timing lava`` runs it; the spec run equals the CPU simulator."""

from __future__ import annotations

import numpy as np
import pytest

from snnc_testing import run_cli as _snnc

pytestmark = pytest.mark.lava


def test_compile_lava_artifact_then_simulate_on_lava(capsys, tmp_path):
    import torch

    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run_artifact
    from snnc.compiler.ir.serialize import read_graph
    from snnc.data import load_dataset
    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    cfg = {**demo_config("asa"), "widths": [4, 8, 8], "fc_hidden": 16, "T": 4}
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    save_checkpoint(ckpt, build_model(cfg).eval(), hparams={}, train_meta={})
    art = tmp_path / "art"
    code, _, err = _snnc(capsys, "compile", str(ckpt), "--target", "lava", "--calibrate", "4", "--holdout", "0",
                         "-o", str(art))
    assert code == 0, err
    assert (art / "lava" / "spec.json").exists()
    code, out, err = _snnc(capsys, "simulate", str(art), "--backend", "lava", "--timing", "lava", "--samples", "2")
    assert code == 0, err
    assert "backend lava" in out and "timing lava" in out
    x, _ = load_dataset("synthetic", "test", 2, cfg["T"], 0)
    lava = run_artifact(art, x)
    cpu = cpu_run(read_graph(art / "graph.nir"), x, timing="lava")
    assert lava.numerics == "fixed" and set(lava.spikes) == set(cpu.spikes)
    for name in cpu.spikes:
        np.testing.assert_array_equal(lava.spikes[name], cpu.spikes[name], err_msg=name)
