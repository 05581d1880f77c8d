"""The CPU simulator's pipeline-aware readout under Lava timing (docs/design.md §3.4).

Oracle: on a chain (every neuron at a single depth) the pipeline readout is snnc timing shifted by each
layer's depth, biases, BatchNorm and ASA included, so its spikes and output must equal the snnc-timing
run bit for bit, which knows nothing about delays or padding. The step-by-step schedule, which implements
the rest state separately, must agree with the layer-by-layer one on a join of two depths.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest

from snnc.backends.cpu import run
from snnc.compiler.ir.depth import pipeline_depth
from snnc.compiler.ir.graph_utils import make_graph
from snnc.frontends import model_to_graph


@pytest.mark.parametrize("family,attention", [("lif-snn-3", "asa"), ("lif-snn-3", "none"), ("lif-snn-5", "asa")])
def test_pipeline_readout_of_a_chain_is_snnc_timing(tiny_model, family, attention):
    model, x = tiny_model(family, attention)
    g = model_to_graph(model)
    snnc = run(g, x.numpy(), timing="snnc")
    piped = run(g, x.numpy(), timing="lava", readout="pipeline", record_voltage=True)
    old = run(g, x.numpy(), timing="lava")
    assert piped.extras["pipeline_depth"] == pipeline_depth(g) > 0
    for name, s in snnc.spikes.items():
        assert s.any(), name
        np.testing.assert_array_equal(piped.spikes[name], s, err_msg=name)
        assert piped.voltages[name].shape == s.shape
    np.testing.assert_array_equal(piped.output, snnc.output)
    assert not np.array_equal(old.output, snnc.output)  # the unshifted readout loses the last D frames
    assert piped.extras["outside_events"] == {}


def test_readout_is_refused_by_name():
    from snnc.errors import SnncError

    g = make_graph({"input": nir.Input(input_type=np.array([2])), "output": nir.Output(output_type=np.array([2]))},
                   [("input", "output")], {"snnc": {"T": 2}})
    with pytest.raises(SnncError, match="readout: must be one of unshifted, pipeline, got 'late'"):
        run(g, np.zeros((1, 2, 2)), timing="lava", readout="late")


def _join_graph(rng: np.random.Generator) -> nir.NIRGraph:
    """a0 → lif0 → a1 → lif1; a2 sums lif1 (depth 2) and lif0 (depth 1) → lif2 (biases everywhere)."""
    def aff(i, o):
        return nir.Affine(weight=rng.normal(0, 1.0, (o, i)).astype(np.float32), bias=rng.normal(0, 0.3, o).astype(np.float32))

    def lif(n):
        one = np.ones(n, np.float32)
        return nir.LIF(tau=one * 2e-3, r=one, v_leak=0 * one, v_threshold=0.5 * one, v_reset=0 * one)

    nodes = {"input": nir.Input(input_type=np.array([6])), "a0": aff(6, 4), "lif0": lif(4), "a1": aff(4, 4),
             "lif1": lif(4), "a2": aff(4, 3), "lif2": lif(3), "output": nir.Output(output_type=np.array([3]))}
    edges = [("input", "a0"), ("a0", "lif0"), ("lif0", "a1"), ("a1", "lif1"), ("lif1", "a2"), ("lif0", "a2"),
             ("a2", "lif2"), ("lif2", "output")]
    return make_graph(nodes, edges, {"snnc": {"T": 7, "dt": 1e-3}})


def test_step_schedule_equals_layer_schedule_on_a_join_of_two_depths():
    from snnc.backends.cpu.simulator import Plan, check_input, pipeline_input
    from snnc.backends.cpu.stepwise import run_steps

    rng = np.random.default_rng(2)
    g = _join_graph(rng)
    x = (rng.random((3, 7, 6)) < 0.5).astype(np.float32)
    seen = {"layer": 0, "step": 0}

    def observer(schedule):  # input events the synapses report (inside their T active steps)
        return lambda name, frames, n: seen.__setitem__(schedule, seen[schedule] + int(np.count_nonzero(frames)))

    layered = run(g, x, timing="lava", readout="pipeline", record_voltage=True, observer=observer("layer"))
    plan = Plan(g, "lava", None, None, False, readout="pipeline")
    stepped = run_steps(plan, pipeline_input(plan, check_input(plan, x)), True, observer("step"))
    assert seen["layer"] == seen["step"] > 0
    assert layered.extras["layer_depths"] == {"lif0": 1, "lif1": 2, "lif2": 3}
    for name in layered.spikes:
        assert layered.spikes[name].any(), name
        np.testing.assert_array_equal(stepped.spikes[name], layered.spikes[name], err_msg=name)
        # the fused C++ loop and the step loop round float32 differently (spikes: exact, as for snnc timing)
        np.testing.assert_allclose(stepped.voltages[name], layered.voltages[name], atol=1e-6, err_msg=name)
    np.testing.assert_array_equal(stepped.output, layered.output)
    # lif0's first step reaches a2 one step before a2's (and lif2's) T active steps: dropped, and counted
    assert layered.extras["outside_events"].get("a2", 0) > 0
    assert stepped.extras["outside_events"] == layered.extras["outside_events"]
