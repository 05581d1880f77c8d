"""The demo ASA LIF-SNN-3 (full demo size, fused gains) on Lava equals the reference simulator under
Lava timing, in every layer: fixed_pt bit-exactly (spikes and integer voltages), floating_pt in spikes.

The weights are seeded and rescaled so every layer fires ~10 % (``scale_to_rate``): the test is about
the compiled structure (BN folded, pools fused into 4×4/s2 convs, per-(t, c) TimeGains, Loihi fixed
point), not about training.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.backends.cpu import run as cpu_run

pytestmark = pytest.mark.lava


@pytest.fixture(scope="module")
def demo_source():
    from snnc.models.activity import scale_to_rate
    from snnc.data import load_dataset
    from snnc.frontends.torch_model import model_to_graph
    from snnc.models import build_model, demo_config

    cfg = demo_config("asa")
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    calib, _ = load_dataset("synthetic", "train", 8, cfg["T"], 0)
    scale_to_rate(model, torch.as_tensor(calib))
    x, _ = load_dataset("synthetic", "test", 2, cfg["T"], 1)
    return model_to_graph(model), calib, x


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed_pt", "floating_pt"])
def test_demo_asa_model_on_lava_equals_cpu(demo_source, fixed):
    from snnc.backends import lava
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes

    source, calib, x = demo_source
    names = select_passes("lava", fixed_point=fixed)
    assert "fuse_asa_gains" in names and ("quantize" in names) == fixed
    graph, _ = run_pipeline(source, names, pipeline_options("lava", names, fuse_asa_gains={"granularity": "tc"}),
                            context=PipelineContext(run=cpu_run, calibration=calib))
    assert any(type(n).__name__ == "TimeGain" for n in graph.nodes.values())
    got = lava.run(graph, x, timing="lava", record_voltage=fixed)
    ref = cpu_run(graph, x, timing="lava", record_voltage=fixed)
    assert set(got.spikes) == {f"b{i}_lif" for i in range(5)} == set(ref.spikes)
    for name in ref.spikes:
        assert ref.spikes[name].sum() > 0, f"{name} is silent: the test would prove nothing"
        np.testing.assert_array_equal(got.spikes[name], ref.spikes[name], err_msg=name)
        if fixed:
            np.testing.assert_array_equal(got.voltages[name], ref.voltages[name], err_msg=name)
