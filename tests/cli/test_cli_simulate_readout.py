"""``snnc simulate --timing lava``: the pipeline-aware readout by default, its padding in the energy report,
``--readout unshifted`` for comparison, a clear error where a backend has no pipeline readout."""

from __future__ import annotations

import json

import pytest
import torch

from snnc_testing import run_cli as _snnc


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    from snnc.data import load_dataset
    from snnc.models import build_model
    from snnc.models.activity import scale_to_rate
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    cfg = {**demo_config("asa"), "widths": [4, 8, 8], "fc_hidden": 16, "T": 4}
    x, _ = load_dataset("synthetic", "train", 2, cfg["T"], 0)
    torch.manual_seed(0)
    m = build_model(cfg).eval()
    scale_to_rate(m, torch.as_tensor(x))
    return save_checkpoint(tmp_path_factory.mktemp("readout") / "m.pt", m, hparams={}, train_meta={})


def test_lava_timing_pads_and_reports_the_padding(capsys, ckpt, tmp_path):
    from snnc.compiler.ir.depth import pipeline_depth
    from snnc.compiler.analysis.energy import LOIHI_NEURON_PJ, LOIHI_SYNOP_PJ
    from snnc.frontends import load_graph

    runs = {}
    for name, extra in (("pipeline", []), ("unshifted", ["--readout", "unshifted"]), ("snnc", None)):
        js = tmp_path / f"{name}.json"
        timing = ["--timing", "snnc"] if extra is None else ["--timing", "lava", *extra]
        code, out, err = _snnc(capsys, "simulate", str(ckpt), "--samples", "4", "--report-energy", *timing,
                               "--json", str(js))
        assert code == 0, err
        runs[name] = json.loads(js.read_text())
    p, u, s = runs["pipeline"], runs["unshifted"], runs["snnc"]
    assert p["readout"] == "pipeline" and u["readout"] == "unshifted" and "readout" not in s
    D = pipeline_depth(load_graph(str(ckpt)))
    neurons = sum(layer["neurons"] for layer in p["layers"])
    pad = p["energy"]["pipeline_padding"]
    assert D > 0 and pad["steps"] == D and pad["neuron_updates"] == D * neurons and pad["spikes"] == 0
    tot = p["energy"]["totals"]
    assert tot["energy_loihi_pj"] == pytest.approx(LOIHI_SYNOP_PJ * tot["sop"]
                                                   + LOIHI_NEURON_PJ * (tot["neuron_updates"] + D * neurons))
    assert "pipeline_padding" not in u["energy"] and "pipeline_padding" not in s["energy"]
    # a chain: the pipeline readout is snnc timing shifted, so every count is the snnc-timing one
    assert [layer["spikes_per_sample"] for layer in p["layers"]] == [layer["spikes_per_sample"] for layer in s["layers"]]
    assert p["accuracy"] == s["accuracy"]
    assert [layer["spikes_per_sample"] for layer in u["layers"]] != [layer["spikes_per_sample"] for layer in s["layers"]]


def test_pipeline_readout_on_onnx_is_one_clear_line(capsys, ckpt):
    code, out, err = _snnc(capsys, "simulate", str(ckpt), "--backend", "onnx", "--timing", "lava", "--readout",
                           "pipeline", "--samples", "1")
    assert code == 2 and out == "" and err.strip().count("\n") == 0
    assert "--readout pipeline: the onnx backend has no pipeline-aware readout" in err
