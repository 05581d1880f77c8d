"""Lava backend == CPU reference simulator (lava timing), on random small graphs.

Fixed point: every spike and every integer voltage of every layer equal (Lava's bit-accurate
models vs snnc.compiler.fixed_point in the CPU simulator). Float: Lava computes in float64 with its
own operation order (u = g·a; v = v(1 − dv) + u + b), the CPU simulator in float32 (v = βv + g·x),
so a membrane within rounding of the threshold may decide differently (a *threshold tie*); the
spikes are compared exactly and the test requires every mismatch to be such a tie (|v − θ| < 1e-4
in the CPU's float64 re-run) — with these seeds there are none.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from lava_graphs import conv_graph, residual_graph, spikes_input

from snnc.backends.cpu import run as cpu_run

pytestmark = pytest.mark.lava

graphs = st.fixed_dictionaries({
    "seed": st.integers(0, 2**16),
    "k": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "stride": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "padding": st.tuples(st.integers(0, 1), st.integers(0, 1)),
    "dilation": st.tuples(st.integers(1, 2), st.integers(1, 1)),
    "pool": st.sampled_from([0, 2]),
    "bias": st.booleans(),
    "beta": st.sampled_from([0.3, 0.7, 0.95]),
    "timegain": st.booleans(),
    "counts": st.booleans(),
})


def _graph_and_input(p: dict, pool_kind: str = "SumPool2d"):
    rng = np.random.default_rng(p["seed"])
    g = conv_graph(rng, H=7, W=6, k=p["k"], stride=p["stride"], padding=p["padding"], dilation=p["dilation"],
                   pool=p["pool"], pool_kind=pool_kind, bias=p["bias"], beta=p["beta"],
                   timegain=6 if p["timegain"] else 0)
    return g, spikes_input(rng, 2, 6, (2, 7, 6), counts=p["counts"])


def _fixed_case(p):
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run as lava_run
    from snnc.compiler.passes.quantize import quantize

    g, x = _graph_and_input(p)
    gq, _ = quantize(g, run=cpu_run, calibration=x)
    lava = lava_run(gq, x, record_voltage=True)
    cpu = cpu_run(gq, x, timing="lava", record_voltage=True)
    assert lava.numerics == "fixed" and set(lava.spikes) == {"b0_lif", "b1_lif"}
    for name in lava.spikes:
        np.testing.assert_array_equal(lava.spikes[name], cpu.spikes[name], err_msg=name)
        np.testing.assert_array_equal(lava.voltages[name], cpu.voltages[name], err_msg=name)
    np.testing.assert_array_equal(lava.output, cpu.output)


def _float_case(p):
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run as lava_run

    g, x = _graph_and_input(p, pool_kind="AvgPool2d" if p["seed"] % 2 else "SumPool2d")
    lava = lava_run(g, x, record_voltage=True)
    cpu = cpu_run(g, x, timing="lava", record_voltage=True)
    assert lava.numerics == "float"
    total = 0
    for name in lava.spikes:
        diff = lava.spikes[name] != cpu.spikes[name]
        total += int(diff.sum())
        # where both agree on spikes, the recorded voltages agree to float32 rounding
        same = ~diff
        np.testing.assert_allclose(lava.voltages[name][same], cpu.voltages[name][same], atol=1e-4, rtol=1e-5)
    assert total == 0, f"{total} spike(s) differ (threshold ties?)"


def _examples(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


TIMEGAIN_CASE = {"seed": 7, "k": (3, 3), "stride": (1, 1), "padding": (1, 1), "dilation": (1, 1), "pool": 2,
                 "bias": True, "beta": 0.7, "timegain": True, "counts": True}


@given(graphs)
@example(TIMEGAIN_CASE)
@_examples(3)
def test_fixed_point_spikes_and_voltages_equal_cpu(p):
    _fixed_case(p)


@given(graphs)
@example(TIMEGAIN_CASE)
@_examples(2)
def test_float_spikes_equal_cpu_up_to_threshold_ties(p):
    _float_case(p)


@pytest.mark.slow
@given(graphs)
@_examples(25)
def test_fixed_point_equal_cpu_many_graphs(p):
    _fixed_case(p)


@pytest.mark.slow
@given(graphs)
@_examples(15)
def test_float_equal_cpu_many_graphs(p):
    _float_case(p)


@pytest.mark.parametrize("fixed", [True, False])
def test_residual_sum_of_two_spike_trains_equals_cpu(fixed):
    """Two edges into one conv: Lava sums them at the port; the conv must take graded messages."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run as lava_run
    from snnc.compiler.passes.quantize import quantize

    rng = np.random.default_rng(11)
    g, x = residual_graph(rng), spikes_input(rng, 1, 6, (2, 5, 5), p=0.5)
    if fixed:
        g, _ = quantize(g, run=cpu_run, calibration=x)
    lava, cpu = lava_run(g, x, record_voltage=True), cpu_run(g, x, timing="lava", record_voltage=True)
    both = (lava.spikes["b0_lif"] + lava.spikes["b1_lif"])[:, :-1]  # what b2_conv sees one step later
    assert np.any(both[:, :] == 2), "the case must sum two spikes on one input"
    for name in cpu.spikes:
        np.testing.assert_array_equal(lava.spikes[name], cpu.spikes[name], err_msg=name)
        if fixed:
            np.testing.assert_array_equal(lava.voltages[name], cpu.voltages[name], err_msg=name)


def test_float_threshold_comparison_on_exact_ties():
    """Integer weights, β = 0.5 and θ = 1: membranes hit θ exactly, so '>=' and '>' really differ."""
    import nir

    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run as lava_run

    rng = np.random.default_rng(5)
    g = conv_graph(rng, bias=False, beta=0.5, k=(2, 2), stride=(1, 1), padding=(0, 0))
    for name in ("b0_conv", "b1_fc"):
        node = g.nodes[name]
        w = rng.integers(-1, 2, np.shape(node.weight)).astype(np.float32)
        if name == "b0_conv":
            g.nodes[name] = nir.Conv2d(input_shape=node.input_shape, weight=w, stride=1, padding=0, dilation=1,
                                       groups=1, bias=np.zeros(w.shape[0], np.float32))
        else:
            g.nodes[name] = nir.Affine(weight=w, bias=np.zeros(w.shape[0], np.float32))
    x = spikes_input(rng, 1, 6, (2, 6, 5), p=0.5)
    got = {}
    for threshold in (">=", ">"):
        g.metadata["snnc"]["threshold"] = threshold
        lava, cpu = lava_run(g, x), cpu_run(g, x, timing="lava")
        for name in cpu.spikes:
            np.testing.assert_array_equal(lava.spikes[name], cpu.spikes[name], err_msg=f"{threshold} {name}")
        got[threshold] = lava.spikes["b0_lif"]
    assert np.any(got[">="] != got[">"]), "the case must contain exact threshold ties"


@pytest.mark.parametrize("fixed", [True, False])
def test_two_synapses_through_one_timegain_equal_cpu(fixed):
    """conv_a + conv_b → TimeGain (per t, c) → LIF: the gain scales the summed current (bias too, in float)."""
    import nir

    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run as lava_run
    from snnc.compiler.ir.graph_utils import make_graph
    from snnc.compiler.ir.nodes import TimeGain
    from snnc.compiler.passes.quantize import quantize

    from lava_graphs import lif_node

    rng = np.random.default_rng(3)
    C, H, W, T = 2, 4, 4, 5

    def conv():
        return nir.Conv2d(input_shape=(H, W), weight=rng.normal(0, 0.8, (3, C, 3, 3)).astype(np.float32), stride=1,
                          padding=1, dilation=1, groups=1, bias=rng.normal(0, 0.2, 3).astype(np.float32))

    nodes = {"input": nir.Input(input_type=np.array([C, H, W])), "b0_conva": conv(), "b0_convb": conv(),
             "b0_attn": TimeGain(gain=rng.uniform(0.3, 2.0, (T, 3, 1, 1)).astype(np.float32), shape=np.array([3, H, W])),
             "b0_lif": lif_node((3, H, W)), "output": nir.Output(output_type=np.array([3, H, W]))}
    edges = [("input", "b0_conva"), ("input", "b0_convb"), ("b0_conva", "b0_attn"), ("b0_convb", "b0_attn"),
             ("b0_attn", "b0_lif"), ("b0_lif", "output")]
    g = make_graph(nodes, edges, {"snnc": {"threshold": ">", "dt": 1e-3, "numerics": "float"}})
    x = spikes_input(rng, 2, T, (C, H, W), p=0.5)
    if fixed:
        g, _ = quantize(g, run=cpu_run, calibration=x)
    lava, cpu = lava_run(g, x, record_voltage=True), cpu_run(g, x, timing="lava", record_voltage=True)
    assert lava.spikes["b0_lif"].sum() > 0
    np.testing.assert_array_equal(lava.spikes["b0_lif"], cpu.spikes["b0_lif"])
    if fixed:
        np.testing.assert_array_equal(lava.voltages["b0_lif"], cpu.voltages["b0_lif"])
