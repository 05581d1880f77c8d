"""Measured synaptic operations equal an independent brute-force loop (energy notes §3.1).

Oracle: for every input event (value v at channel c, position (i, j)) enumerate every output
channel o of c's group, every kernel tap (ki, kj) and check whether output position
((i + p − ki·d)/s, (j + p − kj·d)/s) is an integer inside the output map; count v per hit. With a
pool (kernel = stride) before the conv, each original spike is routed through its pooled position.
"""

from __future__ import annotations

import numpy as np
import nir
from hypothesis import given, settings, strategies as st

from snnc.backends.cpu import run as cpu_run
from snnc.compiler.analysis.counts import measure
from snnc.compiler.ir.graph_utils import make_graph


def brute_force_sop(x: np.ndarray, c_out: int, k: int, s: int, p: int, d: int, g: int, out_hw) -> float:
    """Σ over events of value × number of real postsynaptic connections (pure Python loops)."""
    n_frames, c_in, h, w = x.shape
    oh, ow = out_hw
    per_group_in, per_group_out = c_in // g, c_out // g
    total = 0.0
    for f, c, i, j in zip(*np.nonzero(x)):
        hits = 0
        grp = c // per_group_in
        for o in range(grp * per_group_out, (grp + 1) * per_group_out):
            for ki in range(k):
                for kj in range(k):
                    yi, yj = i + p - ki * d, j + p - kj * d
                    if yi % s or yj % s:
                        continue
                    if 0 <= yi // s < oh and 0 <= yj // s < ow:
                        hits += 1
        total += float(x[f, c, i, j]) * hits
    return total


def _graph(c_in, h, c_out, k, s, p, d, g, pool):
    rng = np.random.default_rng(0)
    nodes = {"input": nir.Input(input_type=np.array([c_in, h, h]))}
    edges = []
    src, hh = "input", h
    if pool:
        kind, pk = pool
        cls = nir.AvgPool2d if kind == "avg" else nir.SumPool2d
        nodes["pool"] = cls(kernel_size=np.array([pk, pk]), stride=np.array([pk, pk]), padding=np.array([0, 0]))
        edges.append((src, "pool"))
        src, hh = "pool", h // pk
    w = rng.normal(size=(c_out, c_in // g, k, k)).astype(np.float32)
    nodes["conv"] = nir.Conv2d(input_shape=np.array([hh, hh]), weight=w, stride=(s, s), padding=(p, p),
                               dilation=(d, d), groups=g, bias=np.zeros(c_out, np.float32))
    edges.append((src, "conv"))
    oh = (hh + 2 * p - d * (k - 1) - 1) // s + 1
    shape = (c_out, oh, oh)
    nodes["lif"] = nir.IF(r=np.ones(shape, np.float32), v_threshold=np.ones(shape, np.float32),
                          v_reset=np.zeros(shape, np.float32))
    nodes["output"] = nir.Output(output_type=np.array(shape))
    edges += [("conv", "lif"), ("lif", "output")]
    return make_graph(nodes, edges), (oh, oh), hh


@settings(max_examples=40, deadline=None)
@given(
    c_in_per_g=st.integers(1, 2), c_out_per_g=st.integers(1, 3), g=st.integers(1, 2), h=st.integers(4, 9),
    k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
    pool=st.sampled_from([None, ("avg", 2), ("sum", 2)]), counts=st.booleans(), seed=st.integers(0, 10_000),
)
def test_synops_equal_brute_force(c_in_per_g, c_out_per_g, g, h, k, s, p, d, pool, counts, seed):
    c_in, c_out = c_in_per_g * g, c_out_per_g * g
    if pool and h % 2:
        h += 1
    hh = h // 2 if pool else h
    if hh + 2 * p < d * (k - 1) + 1:
        return  # empty output map
    graph, out_hw, hh = _graph(c_in, h, c_out, k, s, p, d, g, pool)
    rng = np.random.default_rng(seed)
    T, N = 3, 2
    x = (rng.random((N, T, c_in, h, h)) < 0.3).astype(np.float32)
    if counts:
        x *= rng.integers(1, 4, size=x.shape)  # event counts: weighted by value
    counter, _ = measure(graph, x, batch=1, run=cpu_run)
    frames = x.reshape(N * T, c_in, h, h)
    if pool:
        # every original event routed through its pooled position: a (pooled map) event of value v
        pk = pool[1]
        routed = frames[:, :, : hh * pk, : hh * pk].reshape(N * T, c_in, hh, pk, hh, pk).sum(axis=(3, 5))
    else:
        routed = frames
    want = brute_force_sop(routed, c_out, k, s, p, d, g, out_hw)
    assert np.isclose(counter.synapses["conv"].sop, want, rtol=0, atol=1e-6)
    assert counter.synapses["conv"].events == float(routed.sum())
    if not pool:
        want_mac = brute_force_sop((routed != 0).astype(np.float32), c_out, k, s, p, d, g, out_hw)
        assert counter.synapses["conv"].mac == want_mac


def test_affine_synops_are_events_times_fanout():
    rng = np.random.default_rng(1)
    nodes = {"input": nir.Input(input_type=np.array([7])),
             "fc": nir.Affine(weight=rng.normal(size=(5, 7)).astype(np.float32), bias=np.zeros(5, np.float32)),
             "lif": nir.IF(r=np.ones(5, np.float32), v_threshold=np.ones(5, np.float32), v_reset=np.zeros(5, np.float32)),
             "output": nir.Output(output_type=np.array([5]))}
    g = make_graph(nodes, [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    x = (rng.random((3, 4, 7)) < 0.4).astype(np.float32)
    counter, _ = measure(g, x, run=cpu_run)
    assert counter.synapses["fc"].sop == 5 * x.sum()
    assert counter.synapses["fc"].fl_valid == 35
