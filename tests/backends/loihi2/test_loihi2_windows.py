"""Padded windows with ``Var.set`` resets (the scheme for populations reached by paths of different
lengths, where a staggered ``LIFReset`` has no single offset): a residual-like fixed-point graph whose
biases keep a population firing through the zero padding, so each window's last step leaves spikes in
the synapse buffers (``Conv.a_buf``) — the reset must clear them.

Oracle: the CPU fixed-point simulator under lava timing on every sample padded with D zero frames, i.e.
a fresh network per window.
"""

from __future__ import annotations

import numpy as np
import nir
import pytest

from snnc.errors import SnncError

pytestmark = pytest.mark.lava

C, H, W = 2, 6, 6


def _lif(shape, beta=0.7, theta=1.0) -> nir.LIF:
    n = np.ones(shape, np.float32)
    node = nir.LIF(tau=n * 1e-3 / (1 - beta), r=n / (1 - beta), v_leak=0 * n, v_threshold=theta * n, v_reset=0 * n)
    node.metadata = {"snnc": {"beta": float(np.float32(beta)), "gain": 1.0}}
    return node


def _conv(rng, cin, cout, bias) -> nir.Conv2d:
    return nir.Conv2d(input_shape=(H, W), weight=rng.normal(0, 0.8, (cout, cin, 3, 3)).astype(np.float32),
                      stride=1, padding=1, dilation=1, groups=1, bias=np.full(cout, bias, np.float32))


def _two_depth_graph(rng) -> nir.NIRGraph:
    """input → c0 → l0 → c1 → l1 ─┐
       input → c2 → l2 ───────────┴→ c3 → l3 → output   (l3 is 3 and 2 connections deep; l0 fires on its bias)"""
    from snnc.compiler.ir.graph_utils import make_graph

    nodes = {"input": nir.Input(input_type=np.array([C, H, W])),
             "c0": _conv(rng, C, 2, 0.45), "l0": _lif((2, H, W)), "c1": _conv(rng, 2, 2, 0.0), "l1": _lif((2, H, W)),
             "c2": _conv(rng, C, 2, 0.0), "l2": _lif((2, H, W)), "c3": _conv(rng, 2, 2, 0.0),  # l1 + l2 summed
             "l3": _lif((2, H, W), theta=0.8), "output": nir.Output(output_type=np.array([2, H, W]))}
    edges = [("input", "c0"), ("c0", "l0"), ("l0", "c1"), ("c1", "l1"), ("input", "c2"), ("c2", "l2"),
             ("l1", "c3"), ("l2", "c3"), ("c3", "l3"), ("l3", "output")]
    return make_graph(nodes, edges, {"snnc": {"format": 1, "threshold": ">", "reset": "zero", "dt": 1e-3,
                                              "numerics": "float"}})


def test_padded_windows_reset_state_and_synapse_buffers():
    from snnc.backends import loihi2
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes

    rng = np.random.default_rng(7)
    x = (rng.random((2, 6, C, H, W)) < 0.3).astype(np.float32)
    names = select_passes("loihi2", fixed_point=True)
    graph, _ = run_pipeline(_two_depth_graph(rng), names, pipeline_options("loihi2", names),
                            context=PipelineContext(run=cpu_run, calibration=x))
    with pytest.raises(SnncError, match="paths of different lengths"):  # l3 has two depths: no reset offset
        loihi2.run(graph, x)
    got = loihi2.run(graph, x, window="pad")
    assert got.extras["window"] == "pad" and got.timing == "lava"
    D = got.extras["D"]
    assert D == 3
    padded = np.concatenate([x, np.zeros((2, D, C, H, W), np.float32)], axis=1)
    ref = cpu_run(graph, padded, timing="lava")
    # precondition: l0 fires on the last padding step, so c1's buffer holds spikes when the next window starts
    assert ref.spikes["l0"][:, -1].sum() > 0
    for name in ref.spikes:
        assert ref.spikes[name].sum() > 0, name
        np.testing.assert_array_equal(got.spikes[name], ref.spikes[name], err_msg=name)
    assert got.extras["reset_seconds_per_sample"] > 0
    with pytest.raises(SnncError, match="one pipeline depth"):
        loihi2.run(graph, x, window="reset")


def test_staggered_reset_on_an_if_chain_with_biases_equals_snnc_timing():
    """Input → Conv → IF → Flatten → Affine → LIF with biases (quantize maps IF as a LIF with no decay): the
    staggered LIFReset window reproduces snnc timing in every layer, biases included."""
    from snnc.backends import loihi2
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler.ir.graph_utils import make_graph
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes

    rng = np.random.default_rng(3)
    n = np.ones((3, H, W), np.float32)
    nodes = {"input": nir.Input(input_type=np.array([C, H, W])), "c0": _conv(rng, C, 3, 0.2),
             "if0": nir.IF(r=n, v_threshold=n, v_reset=0 * n),
             "flat": nir.Flatten(input_type={"input": np.array([3, H, W])}, start_dim=0),
             "fc": nir.Affine(weight=rng.normal(0, 0.3, (4, 3 * H * W)).astype(np.float32),
                              bias=np.full(4, 0.1, np.float32)),
             "l1": _lif((4,)), "output": nir.Output(output_type=np.array([4]))}
    edges = [("input", "c0"), ("c0", "if0"), ("if0", "flat"), ("flat", "fc"), ("fc", "l1"), ("l1", "output")]
    source = make_graph(nodes, edges, {"snnc": {"format": 1, "threshold": ">", "reset": "zero", "dt": 1e-3,
                                                "numerics": "float"}})
    x = (rng.random((2, 5, C, H, W)) < 0.3).astype(np.float32)
    names = select_passes("loihi2", fixed_point=True)
    graph, _ = run_pipeline(source, names, pipeline_options("loihi2", names),
                            context=PipelineContext(run=cpu_run, calibration=x))
    got = loihi2.run(graph, x)
    assert got.extras["window"] == "reset" and got.extras["D"] == 2
    ref = cpu_run(graph, x, timing="snnc")
    for name in ref.spikes:
        assert ref.spikes[name].sum() > 0, name
        np.testing.assert_array_equal(got.spikes[name], ref.spikes[name], err_msg=name)
