"""MA-SNN attention fused into gains: its final ReLU kept as ``TimeGain.rectify`` (y = g · max(x, 0)).

Oracle: with per-(t, c, h, w) gains calibrated on one sample, the frozen gate *is* that sample's gate, so
the fused graph must reproduce the exact attention's spikes on that sample bit for bit, and the same
gains without the rectification must not. ONNX runs the rectified gain like the CPU; Lava and fixed point refuse it by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.backends.cpu import run
from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.passes import PipelineContext
from snnc.compiler.pipeline import run_pipeline, select_passes
from snnc.frontends import model_to_graph
from snnc.models import build_model, demo_config
from snnc.backends.cpu import run as cpu_run


@pytest.fixture(scope="module", params=["ta", "ca", "sa", "tcsa"])
def graph_and_sample(request):
    from snnc.models.activity import scale_to_rate

    torch.manual_seed(3)
    model = build_model({**demo_config(request.param), "T": 6}).eval()
    g = torch.Generator().manual_seed(4)
    x = (torch.rand(1, 6, 2, 32, 32, generator=g) < 0.3).float()
    scale_to_rate(model, x)  # every layer fires, so spike equality is not vacuous
    return model_to_graph(model), x.numpy()


def _fused(graph, x, rectify: bool):
    options = {"fuse_asa_gains": {"granularity": "tchw", "rectify": rectify}}
    g, _ = run_pipeline(graph, select_passes("cpu"), options, context=PipelineContext(run=cpu_run, calibration=x))
    return g


def test_one_sample_calibration_reproduces_exact_spikes(graph_and_sample):
    graph, x = graph_and_sample
    exact, _ = run_pipeline(graph, select_passes("cpu", asa_mode="exact"))
    want = run(exact, x).spikes
    fused = _fused(graph, x, True)
    gains = [n for n in fused.nodes.values() if node_kind(n) == "TimeGain"]
    assert len(gains) == 3 and all(n.rectify for n in gains)
    got = run(fused, x).spikes
    assert all(want[k].any() for k in want)
    assert all(np.array_equal(got[k], want[k]) for k in want)
    # the same gains without the rectification let negative currents through: the test can fail
    from snnc.compiler.ir import nodes as ext
    from snnc.compiler.ir.graph_utils import copy_graph

    mutant = copy_graph(fused)
    for name, node in mutant.nodes.items():
        if node_kind(node) == "TimeGain":
            mutant.nodes[name] = ext.TimeGain(gain=node.gain, shape=node.shape, rectify=False)
    plain = run(mutant, x, record_voltage=True).voltages
    ref = run(fused, x, record_voltage=True).voltages
    assert any(not np.array_equal(plain[k], ref[k]) for k in ref)


def test_onnx_runs_the_rectified_gain_like_the_cpu(graph_and_sample):
    from snnc.backends.registry import get_backend

    graph, x = graph_and_sample
    fused = _fused(graph, x, True)
    a, b = get_backend("onnx").run(fused, x), run(fused, x)
    assert all(np.array_equal(a.spikes[k], b.spikes[k]) for k in b.spikes)


def test_fixed_point_and_lava_refuse_the_rectified_gain(graph_and_sample):
    from snnc.backends.lava.lower import lower
    from snnc.errors import SnncError

    graph, x = graph_and_sample
    fused = _fused(graph, x, True)
    name = next(n for n, node in fused.nodes.items() if node_kind(node) == "TimeGain")
    with pytest.raises(SnncError, match=f"TimeGain {name!r} rectifies"):
        run_pipeline(fused, ["quantize"], context=PipelineContext(run=cpu_run, calibration=x))
    with pytest.raises(SnncError, match="rectifies its input"):
        lower(fused)
