"""pipeline_depth(g) = the step at which the last input frame reaches the output under Lava timing.

Oracle: the CPU simulator under Lava timing. Every weight is positive and every IF neuron fires on any
positive input (threshold 1e-6, no leak, no bias), so an impulse at input frame 0 travels every path;
the last output step that spikes is the longest path's delay, which must be D.
"""

from __future__ import annotations

import nir
import numpy as np
from hypothesis import given, settings, strategies as st

from ir_tiny_models import tiny_model
from snnc.backends.cpu.simulator import run
from snnc.compiler.ir import make_graph
from snnc.compiler.ir.depth import node_depths, pipeline_depth
from snnc.frontends import model_to_graph

N = 3  # features of every population


def _if() -> nir.IF:
    return nir.IF(r=np.ones(N, np.float32), v_threshold=np.full(N, 1e-6, np.float32), v_reset=np.zeros(N, np.float32))


def _affine() -> nir.Affine:
    return nir.Affine(weight=np.ones((N, N), np.float32), bias=np.zeros(N, np.float32))


def _chain_graph(main: list[str], shortcut: int | None, T: int) -> nir.NIRGraph:
    """input -> main stages ("a": Affine, "n": IF, "an": Affine + IF) -> IF -> output; optionally a
    shortcut of ``shortcut`` Affines from the input into the final IF (a residual-like join)."""
    nodes = {"input": nir.Input(input_type=np.array([N])), "out_if": _if(), "output": nir.Output(output_type=np.array([N]))}
    edges, prev = [], "input"
    for i, stage in enumerate(main):
        for part in stage:
            name = f"m{i}{part}"
            nodes[name] = _affine() if part == "a" else _if()
            edges.append((prev, name))
            prev = name
    edges.append((prev, "out_if"))
    if shortcut is not None:
        prev = "input"
        for j in range(shortcut):
            nodes[f"s{j}"] = _affine()
            edges.append((prev, f"s{j}"))
            prev = f"s{j}"
        if prev != "input" or not any(a == "input" and b == "out_if" for a, b in edges):
            edges.append((prev, "out_if"))
    edges.append(("out_if", "output"))
    return make_graph(nodes, edges, {"snnc": {"T": T}})


def _last_output_step(g: nir.NIRGraph, T: int) -> int:
    x = np.zeros((1, T, N), np.float32)
    x[0, 0] = 1.0
    out = run(g, x, timing="lava").output[0]
    steps = np.flatnonzero(out.sum(axis=1) > 0)
    return int(steps.max())


@settings(max_examples=25, deadline=None)
@given(main=st.lists(st.sampled_from(["a", "n", "an"]), min_size=1, max_size=5),
       shortcut=st.one_of(st.none(), st.integers(0, 4)))
def test_depth_is_the_step_the_impulse_last_reaches_the_output(main, shortcut):
    T = 12
    g = _chain_graph(main, shortcut, T)
    D = pipeline_depth(g)
    assert D == _last_output_step(g, T)


def test_depth_counts_only_delaying_nodes():
    g = _chain_graph(["an", "n", "a"], shortcut=None, T=4)
    assert pipeline_depth(g) == 2
    d = node_depths(g)
    assert (d["input"], d["m0a"], d["m0n"], d["m1n"], d["m2a"], d["out_if"], d["output"]) == (0, 1, 1, 1, 2, 2, 2)


def test_lif_snn_3_depth_counts_convs_pools_and_fcs():
    g = model_to_graph(tiny_model("lif-snn-3", "asa"))
    kinds = [type(n).__name__ for n in g.nodes.values()]
    # the chain of LIF-SNN-3: 3 convs, 2 avgpools, 2 fully connected layers, nothing in parallel
    assert kinds.count("Conv2d") + kinds.count("AvgPool2d") + kinds.count("SumPool2d") + kinds.count("Affine") \
        + kinds.count("Linear") == pipeline_depth(g) == 7
