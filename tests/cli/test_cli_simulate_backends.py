"""``snnc simulate --backend onnx|lava``: timing follows the backend, ``--compare cpu`` reports per-layer
agreement (text and JSON) equal to an independent CPU-vs-backend comparison, raw checkpoints run on onnx."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from snnc_testing import run_cli as _snnc


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A vanilla lif-snn-3 checkpoint (BatchNorm, AvgPool2d: raw graph) that fires."""
    from snnc.models.activity import scale_to_rate
    from snnc.data import load_dataset
    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    d = tmp_path_factory.mktemp("sim-backends")
    cfg = {**demo_config("none"), "widths": [4, 8, 8], "fc_hidden": 16, "T": 4}
    x, _ = load_dataset("synthetic", "train", 2, cfg["T"], 0)
    torch.manual_seed(0)
    m = build_model(cfg).eval()
    scale_to_rate(m, torch.as_tensor(x))
    return save_checkpoint(d / "v.pt", m, hparams={}, train_meta={}), cfg


def _independent_rows(graph, x, backend_run, timing, **readout):
    from snnc.backends.cpu import run as cpu_run

    a, b = backend_run(graph, x, timing=timing, **readout), cpu_run(graph, x, timing=timing, **readout)
    return {k: (float(a.spikes[k].sum()), float(b.spikes[k].sum()), int(np.sum(a.spikes[k] != b.spikes[k])))
            for k in b.spikes}


def _check_rows(report: dict, expected: dict) -> None:
    rows = {r["node"]: (r["spikes_backend"], r["spikes_cpu"], r["differing"]) for r in report["layers"]}
    assert rows == expected
    assert report["identical"] == all(v[2] == 0 for v in expected.values())


def test_raw_checkpoint_on_onnx_with_compare(capsys, tiny, tmp_path):
    from snnc.backends import onnx as onnx_backend
    from snnc.data import load_dataset
    from snnc.frontends import load_graph

    ckpt, cfg = tiny
    js = tmp_path / "r.json"
    code, out, err = _snnc(capsys, "simulate", str(ckpt), "--backend", "onnx", "--samples", "3", "--batch", "2",
                           "--compare", "cpu", "--json", str(js))
    assert code == 0, err
    assert "internal error" not in err and "backend onnx, timing snnc" in out
    assert "agreement with the cpu reference" in out and "onnx vs cpu" in out
    r = json.loads(js.read_text())
    assert r["timing"] == "snnc" and r["compare"]["against"] == "cpu"
    x, _ = load_dataset("synthetic", "test", 3, cfg["T"], 0)
    expected = _independent_rows(load_graph(str(ckpt)), x, onnx_backend.run, "snnc")
    assert sum(v[1] for v in expected.values()) > 0
    _check_rows(r["compare"], expected)


def test_compare_needs_another_backend(capsys, tiny, tmp_path):
    code, out, err = _snnc(capsys, "simulate", str(tiny[0]), "--compare", "cpu", "--samples", "1")
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and "--compare cpu" in err


@pytest.mark.lava
def test_lava_backend_defaults_to_lava_timing_and_compares(capsys, tiny, tmp_path):
    from snnc.backends.lava import run as lava_run
    from snnc.compiler.ir.serialize import read_graph
    from snnc.data import load_dataset

    ckpt, cfg = tiny
    art = tmp_path / "art"
    code, _, err = _snnc(capsys, "compile", str(ckpt), "--target", "lava", "--calibrate", "4", "--holdout", "0",
                         "-o", str(art))
    assert code == 0, err
    js = tmp_path / "r.json"
    code, out, err = _snnc(capsys, "simulate", str(art), "--backend", "lava", "--samples", "2", "--compare", "cpu",
                           "--json", str(js))
    assert code == 0, err
    assert "backend lava, timing lava (pipeline readout)" in out and "lava vs cpu: all spikes identical" in out
    r = json.loads(js.read_text())
    assert r["timing"] == "lava" and r["numerics"] == "fixed" and r["readout"] == "pipeline"
    x, _ = load_dataset("synthetic", "test", 2, cfg["T"], 0)
    expected = _independent_rows(read_graph(art / "graph.nir"), x, lava_run, "lava", readout="pipeline")
    _check_rows(r["compare"], expected)
    assert r["compare"]["identical"]
    # an explicit snnc timing on Lava is still a one-line error
    code, out, err = _snnc(capsys, "simulate", str(art), "--backend", "lava", "--timing", "snnc", "--samples", "1")
    assert code != 0 and out == "" and "--timing" in err and err.strip().count("\n") == 0


def test_unsupported_nodes_are_one_clear_line(capsys, tmp_path):
    """A raw ASA checkpoint on onnx (ASA needs the whole window) and a raw checkpoint on lava (BatchNorm not
    folded): one ``snnc: error:`` line naming the node, never an internal error."""
    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    torch.manual_seed(0)
    asa = save_checkpoint(tmp_path / "asa.pt", build_model({**demo_config("asa"), "widths": [4, 8, 8], "fc_hidden": 16,
                                                            "T": 4}).eval(), hparams={}, train_meta={})
    for backend, node in (("onnx", "'b0_attn' (ASA)"), ("lava", "'b0_bn'")):
        code, out, err = _snnc(capsys, "simulate", str(asa), "--backend", backend, "--samples", "1")
        assert code != 0 and out == "", backend
        assert err.startswith("snnc: error:") and err.strip().count("\n") == 0, err
        assert node in err and "internal error" not in err, err
