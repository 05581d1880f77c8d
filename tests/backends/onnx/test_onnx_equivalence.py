"""ONNX step model == CPU reference simulator: spikes (and fixed-point voltages) bit-identical.

Demo models (seeded, firing, compiled through the real pipeline: BN folded, pools fused, ASA fused
to TimeGains; float and Loihi fixed point) under both timings, and hypothesis-generated random
small graphs (convs, pools, flatten, affine, TimeGain, LIF/IF, both threshold rules and resets).
"""

from __future__ import annotations

import numpy as np
import nir
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends import cpu
from snnc.backends import onnx as onnx_backend
from snnc.compiler.ir import TimeGain, make_graph
from snnc.regress.core import load_artifact, make_inputs
from snnc.backends.cpu import run as cpu_run


def _assert_same(a, b, voltages: bool = False) -> None:
    assert sorted(a.spikes) == sorted(b.spikes)
    for k in a.spikes:
        np.testing.assert_array_equal(a.spikes[k], b.spikes[k], err_msg=k)
    np.testing.assert_array_equal(a.output, b.output)
    if voltages:
        for k in a.voltages:
            np.testing.assert_array_equal(a.voltages[k], b.voltages[k], err_msg=k)


@pytest.mark.parametrize("timing", ["snnc", "lava"])
@pytest.mark.parametrize("numerics", ["float", "fixed"])
@pytest.mark.parametrize("attention", ["none", "asa"])
def test_demo_models_match_cpu(demo_artifact, attention, numerics, timing):
    graph = load_artifact(demo_artifact(attention, numerics)).graph
    if attention == "asa":
        assert any(type(n).__name__ == "TimeGain" for n in graph.nodes.values())
    x, _ = make_inputs(graph, 3, seed=1)
    ref = cpu.run(graph, x, timing=timing, record_voltage=True)
    got = onnx_backend.run(graph, x, timing=timing, record_voltage=True)
    assert got.numerics == ref.numerics == numerics
    assert sum(float(s.sum()) for s in ref.spikes.values()) > 0
    _assert_same(ref, got, voltages=numerics == "fixed")
    if numerics == "float":  # float32 sums in another order: voltages agree to rounding
        for k in ref.voltages:
            np.testing.assert_allclose(got.voltages[k], ref.voltages[k], rtol=0, atol=1e-4)


def _lif(shape, beta, thr, meta: bool):
    full = lambda v: np.full(shape, v, np.float32)  # noqa: E731
    node = nir.LIF(tau=full(1e-3 / (1 - beta)), r=full(1 / (1 - beta)), v_leak=full(0.0), v_threshold=full(thr),
                   v_reset=full(0.0))
    if meta:
        node.metadata = {"snnc": {"beta": np.float32(beta), "gain": np.float32(1.0)}}
    return node


@st.composite
def random_graphs(draw):
    """Input (C, H, W) -> Conv2d -> [TimeGain] -> LIF|IF -> [Sum/AvgPool] -> Flatten -> Affine -> LIF."""
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    c, h, T = draw(st.integers(1, 3)), draw(st.integers(4, 7)), draw(st.integers(2, 6))
    co, k = draw(st.integers(1, 4)), draw(st.sampled_from([1, 3]))
    stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, k // 2))
    oh = (h + 2 * pad - k) // stride + 1
    nodes = {"input": nir.Input(input_type=np.array([c, h, h])),
             "b0_conv": nir.Conv2d(input_shape=None, weight=rng.normal(0, 0.6, (co, c, k, k)).astype(np.float32),
                                   stride=stride, padding=pad, dilation=1, groups=1,
                                   bias=rng.normal(0, 0.1, co).astype(np.float32))}
    edges = [("input", "b0_conv")]
    last = "b0_conv"
    if draw(st.booleans()):
        gain = rng.uniform(0.5, 1.5, (T, co, 1, 1)).astype(np.float32)
        nodes["b0_attn"] = TimeGain(gain=gain)
        edges.append((last, "b0_attn"))
        last = "b0_attn"
    if draw(st.booleans()):
        nodes["b0_lif"] = _lif((co, oh, oh), draw(st.sampled_from([0.3, 0.5, 0.9])), 0.3, draw(st.booleans()))
    else:
        nodes["b0_lif"] = nir.IF(r=np.full((co, oh, oh), 1.0, np.float32), v_threshold=np.full((co, oh, oh), 0.4,
                                 np.float32), v_reset=np.zeros((co, oh, oh), np.float32))
    edges.append((last, "b0_lif"))
    last, fh = "b0_lif", oh
    pool = draw(st.sampled_from([None, "sum", "avg"]))
    if pool and oh >= 2:
        cls = nir.SumPool2d if pool == "sum" else nir.AvgPool2d
        nodes["b1_pool"] = cls(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
        edges.append((last, "b1_pool"))
        last, fh = "b1_pool", oh // 2
    feat = co * fh * fh
    out = draw(st.integers(1, 5))
    nodes["b1_flatten"] = nir.Flatten(input_type={"input": np.array([co, fh, fh])}, start_dim=0)
    nodes["b1_fc"] = nir.Affine(weight=rng.normal(0, 0.5, (out, feat)).astype(np.float32),
                                bias=rng.normal(0, 0.1, out).astype(np.float32))
    nodes["b1_lif"] = _lif((out,), 0.5, 0.2, True)
    nodes["output"] = nir.Output(output_type=np.array([out]))
    edges += [(last, "b1_flatten"), ("b1_flatten", "b1_fc"), ("b1_fc", "b1_lif"), ("b1_lif", "output")]
    meta = {"snnc": {"T": T, "dt": 1e-3, "threshold": draw(st.sampled_from([">", ">="])),
                     "reset": draw(st.sampled_from(["zero", "subtract"]))}}
    x = rng.poisson(0.7, (2, T, c, h, h)).astype(np.float32)
    return make_graph(nodes, edges, meta), x, draw(st.sampled_from(["snnc", "lava"]))


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_random_graphs_match_cpu(case):
    graph, x, timing = case
    _assert_same(cpu.run(graph, x, timing=timing), onnx_backend.run(graph, x, timing=timing))


@st.composite
def random_fixed_graphs(draw):
    """A random float graph with LIF neurons only, quantized by the real ``quantize`` pass on its inputs."""
    from snnc.compiler.passes import quantize

    graph, x, timing = draw(random_graphs())
    for name, node in list(graph.nodes.items()):
        if isinstance(node, nir.IF):  # quantize maps LIF only
            graph.nodes[name] = _lif(tuple(node.r.shape), 0.5, 0.4, False)
        if isinstance(node, nir.AvgPool2d):  # an average of spikes is not an integer signal
            graph.nodes[name] = nir.SumPool2d(kernel_size=node.kernel_size, stride=node.stride, padding=node.padding)
    graph.metadata["snnc"]["reset"] = "zero"
    fixed, _ = quantize(graph, run=cpu_run, calibration=x)
    return fixed, x, timing


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(random_fixed_graphs())
def test_random_fixed_point_graphs_match_cpu(case):
    graph, x, timing = case
    assert graph.metadata["snnc"]["numerics"] == "fixed"
    ref = cpu.run(graph, x, timing=timing, record_voltage=True)
    _assert_same(ref, onnx_backend.run(graph, x, timing=timing, record_voltage=True), voltages=True)


@pytest.mark.parametrize("model, attention, pipeline", [("lif-snn-5", "asa", "onnx"), ("lif-snn-5", "asa", "lava"),
                                                       ("res-snn-18", "none", "onnx")])
def test_other_architectures_match_cpu(model, attention, pipeline):
    """MaxPool2d, PLIF (β = 1 − k, g = k), residual sums (two edges into one node); float and, through the
    lava pipeline, fixed point (voltages too); both timings."""
    import torch

    from snnc.models.activity import scale_to_rate
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.frontends import model_to_graph
    from snnc.models import build_model

    widths = [4] * (5 if model == "lif-snn-5" else 4)
    torch.manual_seed(0)
    net = build_model({"model": model, "T": 4, "input_size": [32, 32], "num_classes": 4, "attention": attention,
                       "widths": widths}).eval()
    x = (np.random.default_rng(0).random((2, 4, 2, 32, 32)) < 0.2).astype(np.float32)
    scale_to_rate(net, torch.as_tensor(x))
    fixed = pipeline == "lava"
    passes = select_passes(pipeline, fixed_point=fixed)
    options = pipeline_options(pipeline, passes, fuse_asa_gains={"granularity": "tc"})
    graph, _ = run_pipeline(model_to_graph(net), passes, options, context=PipelineContext(run=cpu_run, calibration=x))
    assert (graph.metadata["snnc"].get("numerics") == "fixed") == fixed
    for timing in ("snnc", "lava"):
        ref = cpu.run(graph, x, timing=timing, record_voltage=fixed)
        assert sum(float(s.sum()) for s in ref.spikes.values()) > 0
        _assert_same(ref, onnx_backend.run(graph, x, timing=timing, record_voltage=fixed), voltages=fixed)
