"""The pipeline-aware readout on Lava (docs/design.md §3.4) == the CPU simulator's, layer by layer.

Lava pads each window with D zero frames and starts layer k at its depth d_k; the CPU simulator does the
same in its own code. Both must give the same spikes, voltages and output. On chains (every neuron at one
depth) the readout is also snnc timing exactly, biases and TimeGains included: an oracle that does not
know about the padding at all.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lava_graphs import conv_graph, lif_node, spikes_input
from snnc.backends.cpu import run as cpu_run
from snnc.compiler.ir.graph_utils import make_graph

pytestmark = pytest.mark.lava


def _shortcut_graph(rng: np.random.Generator, H: int = 5, W: int = 5) -> nir.NIRGraph:
    """input → c0 → lif0 → c1 → lif1; c2 sums lif1 (depth 2) and lif0 (depth 1, a shortcut) → lif2:
    the join has paths of two depths."""
    def conv(cin, cout):
        return nir.Conv2d(input_shape=(H, W), weight=rng.normal(0, 0.9, (cout, cin, 3, 3)).astype(np.float32),
                          stride=1, padding=1, dilation=1, groups=1, bias=rng.normal(0, 0.2, cout).astype(np.float32))

    nodes = {"input": nir.Input(input_type=np.array([2, H, W])), "c0": conv(2, 3), "lif0": lif_node((3, H, W)),
             "c1": conv(3, 3), "lif1": lif_node((3, H, W), beta=0.5), "c2": conv(3, 2),
             "lif2": lif_node((2, H, W), theta=0.8), "output": nir.Output(output_type=np.array([2, H, W]))}
    edges = [("input", "c0"), ("c0", "lif0"), ("lif0", "c1"), ("c1", "lif1"), ("lif1", "c2"), ("lif0", "c2"),
             ("c2", "lif2"), ("lif2", "output")]
    return make_graph(nodes, edges, {"snnc": {"format": 1, "threshold": ">", "reset": "zero", "dt": 1e-3,
                                              "numerics": "float"}})


def _assert_same(lava, cpu, voltages: bool) -> None:
    assert set(lava.spikes) == set(cpu.spikes)
    for name in lava.spikes:
        np.testing.assert_array_equal(lava.spikes[name], cpu.spikes[name], err_msg=name)
        if voltages:
            np.testing.assert_array_equal(lava.voltages[name], cpu.voltages[name], err_msg=name)
    np.testing.assert_array_equal(lava.output, cpu.output)
    assert lava.extras["pipeline_depth"] == cpu.extras["pipeline_depth"]
    assert lava.extras["layer_depths"] == cpu.extras["layer_depths"]


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(seed=st.integers(0, 2**16), pool=st.sampled_from([0, 2]), timegain=st.booleans())
def test_fixed_point_pipeline_readout_equals_cpu_and_snnc_timing(seed, pool, timegain):
    from snnc.backends.lava import run as lava_run
    from snnc.compiler.passes.quantize import quantize

    rng = np.random.default_rng(seed)
    g = conv_graph(rng, H=7, W=6, pool=pool, bias=True, timegain=6 if timegain else 0)
    x = spikes_input(rng, 2, 6, (2, 7, 6))
    gq, _ = quantize(g, run=cpu_run, calibration=x)
    lava = lava_run(gq, x, record_voltage=True, readout="pipeline")
    cpu = cpu_run(gq, x, timing="lava", record_voltage=True, readout="pipeline")
    _assert_same(lava, cpu, voltages=True)
    assert lava.extras["pipeline_depth"] == (3 if pool else 2)
    snnc = cpu_run(gq, x, timing="snnc")  # a chain: the pipeline readout is snnc timing, biases included
    for name in snnc.spikes:
        np.testing.assert_array_equal(lava.spikes[name], snnc.spikes[name], err_msg=name)
    assert sum(float(s.sum()) for s in snnc.spikes.values()) > 0


@pytest.mark.parametrize("fixed", [True, False])
def test_join_of_two_depths_equals_cpu(fixed):
    from snnc.backends.lava import run as lava_run
    from snnc.compiler.passes.quantize import quantize

    rng = np.random.default_rng(5)
    g = _shortcut_graph(rng)
    x = spikes_input(rng, 2, 6, (2, 5, 5))
    if fixed:
        g, _ = quantize(g, run=cpu_run, calibration=x)
    lava = lava_run(g, x, record_voltage=fixed, readout="pipeline")
    cpu = cpu_run(g, x, timing="lava", record_voltage=fixed, readout="pipeline")
    _assert_same(lava, cpu, voltages=fixed)
    assert cpu.extras["layer_depths"] == {"lif0": 1, "lif1": 2, "lif2": 3}
    assert all(float(s.sum()) > 0 for s in cpu.spikes.values())


def test_unshifted_readout_drops_the_last_frames_and_pipeline_keeps_them():
    """One input frame, the last one: the unshifted readout never sees it at the output; the pipeline
    readout does (the same spikes as snnc timing)."""
    from snnc.backends.lava import run as lava_run

    rng = np.random.default_rng(1)
    g = conv_graph(rng, H=7, W=6, bias=False, theta=0.05)
    x = np.zeros((1, 5, 2, 7, 6), np.float32)
    x[0, -1] = spikes_input(rng, 1, 1, (2, 7, 6), p=0.8)[0, 0]
    old = lava_run(g, x, readout="unshifted")
    new = lava_run(g, x, readout="pipeline")
    snnc = cpu_run(g, x, timing="snnc")
    assert old.output.sum() == 0 < snnc.output.sum()
    np.testing.assert_array_equal(new.output, snnc.output)


def test_spec_depths_equal_the_graph_depths():
    from snnc.backends.lava.lower import lower
    from snnc.backends.lava.runner import spec_depths
    from snnc.compiler.ir.depth import node_depths, pipeline_depth

    for g in (conv_graph(np.random.default_rng(0), pool=2), _shortcut_graph(np.random.default_rng(0))):
        spec = lower(g)
        depths = spec_depths(spec)
        graph_depths = node_depths(g)
        assert {n: graph_depths[n] for n in depths} == depths
        assert depths[spec["output"]["src"]] == pipeline_depth(g)
