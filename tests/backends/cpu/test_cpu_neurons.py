"""Float neurons (docs/design.md §3.3) equal a float32 NumPy loop of the same equations, for stock NIR
LIF (per-neuron τ, r, v_leak, v_reset; reset to v_reset or by subtraction), IF and LI, in both schedules."""

from __future__ import annotations

import numpy as np
import nir
from hypothesis import given, settings, strategies as st

from snnc.backends.cpu import run
from snnc.backends.cpu.simulator import Plan, check_input
from snnc.backends.cpu.stepwise import run_steps
from snnc.compiler.ir.graph_utils import make_graph

DT = 1e-3
F = 4


def _graph(kind: str, rng, reset: str, threshold: str):
    tau = rng.uniform(1.5e-3, 20e-3, F).astype(np.float32)
    r = rng.uniform(0.5, 2.0, F).astype(np.float32)
    leak = rng.uniform(-0.2, 0.2, F).astype(np.float32)
    th = rng.uniform(0.2, 1.0, F).astype(np.float32)
    v_reset = rng.uniform(-0.2, 0.1, F).astype(np.float32)
    if kind == "LIF":
        node = nir.LIF(tau=tau, r=r, v_leak=leak, v_threshold=th, v_reset=v_reset)
    elif kind == "IF":
        node = nir.IF(r=r, v_threshold=th, v_reset=v_reset)
    else:
        node = nir.LI(tau=tau, r=r, v_leak=leak)
    w = (rng.integers(-64, 65, size=(F, 3)) / 64).astype(np.float32)  # sums of these are exact in float32
    nodes = {"input": nir.Input(input_type=np.array([3])), "fc": nir.Linear(weight=w), "n": node,
             "output": nir.Output(output_type=np.array([F]))}
    meta = {"snnc": {"reset": reset, "threshold": threshold, "dt": DT}}
    return make_graph(nodes, [("input", "fc"), ("fc", "n"), ("n", "output")], meta), node, w


def reference(kind, node, w, x, reset, threshold):
    f32 = np.float32
    cur = (x.astype(np.float64) @ w.T.astype(np.float64)).astype(f32)  # exact: few-bit weights, binary x
    n, T, _ = x.shape
    v = np.zeros((n, F), f32)
    spikes, volts = [], []
    if kind in ("LIF", "LI"):
        a = DT / np.asarray(node.tau, np.float64)
        beta, gain, leak = (1 - a).astype(f32), (a * node.r).astype(f32), (a * node.v_leak).astype(f32)
    for t in range(T):
        if kind == "IF":
            v = np.asarray(node.r, f32) * cur[:, t] + v
        else:
            v = beta * v + gain * cur[:, t]
            v = v + leak
        if kind == "LI":
            volts.append(v.copy())
            continue
        s = v >= node.v_threshold if threshold == ">=" else v > node.v_threshold
        v = np.where(s, v - node.v_threshold, v) if reset == "subtract" else np.where(s, node.v_reset, v)
        spikes.append(s.astype(f32))
        volts.append(v.copy())
    return (np.stack(spikes, 1) if spikes else None), np.stack(volts, 1)


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["LIF", "IF", "LI"]), reset=st.sampled_from(["zero", "subtract"]),
       threshold=st.sampled_from([">", ">="]), seed=st.integers(0, 10_000))
def test_float_neurons_equal_numpy(kind, reset, threshold, seed):
    rng = np.random.default_rng(seed)
    g, node, w = _graph(kind, rng, reset, threshold)
    x = rng.integers(0, 2, size=(2, 15, 3)).astype(np.float32)  # binary: the synaptic sums are exact
    s_ref, v_ref = reference(kind, node, w, x, reset, threshold)
    res = run(g, x, record_voltage=True)
    plan = Plan(g, "snnc", None, None, False)
    stepped = run_steps(plan, check_input(plan, x), True, None)
    for r in (res, stepped):
        if kind == "LI":
            np.testing.assert_array_equal(r.output, v_ref)
        else:
            np.testing.assert_array_equal(r.spikes["n"], s_ref)
            np.testing.assert_array_equal(r.voltages["n"], v_ref)
