"""fuse_asa_gains probes each attention layer from the previous layer's stored input currents (the upstream
runs once) and sums the factor one sample at a time: the output graph is byte-identical to the algorithm before that change (kept below, it probes
every layer from the frames), for every attention kind, granularity, rectify and upstream setting; the cut
is really taken; a graph with a path around the cut falls back to probing from the frames."""

from __future__ import annotations

import numpy as np
import pytest

from passes_helpers import snapshot, tiny_frames, tiny_graph
from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, topological_order
from snnc.compiler.passes import fold_batchnorm, fuse_asa_gains
from snnc.compiler.passes import probe as probe_module
from snnc.compiler.passes.fuse_asa_gains import fused_from, reduce_gain
from snnc.compiler.passes.probe import cut_probe_graph, probe_batches
from snnc.compiler.window_attention import factor, gate, is_attention, rectifies

cpu = pytest.importorskip("snnc.backends.cpu")


def old_mean_factor(node, batches, rectify):
    """mean_factor before the change (verbatim but for the C order of its results): each batch converted to
    float64 whole, the factor materialised (the pass sums ASA's from its parts with the fused kernel)."""
    total = total_sq = None
    n = 0
    for currents in batches:
        f = (gate if rectify else factor)(node, currents).numpy().astype(np.float64)
        total = f.sum(axis=0) if total is None else total + f.sum(axis=0)
        total_sq = (f * f).sum(axis=0) if total_sq is None else total_sq + (f * f).sum(axis=0)
        n += len(f)
    mean = total / n
    # the one change: C order, as the pass now makes it (the factor's layout followed the currents', and the
    # float32 means in the pass record were summed in that memory order)
    mean = np.ascontiguousarray(mean)
    return mean, np.ascontiguousarray(np.sqrt(np.maximum(total_sq / n - mean * mean, 0.0)))


def old_fuse(graph, calibration, granularity, upstream, rectify):
    """The pass before the upstream cache (verbatim loop): layer by layer, each probed from the frames."""
    g, reference = copy_graph(graph), copy_graph(graph)
    deltas = {}
    for name in [n for n in topological_order(g) if is_attention(g.nodes[n])]:
        node = g.nodes[name]
        source = g if upstream == "fused" else reference
        keep_relu = rectify and rectifies(node)
        mean, std = old_mean_factor(node, probe_batches(source, name, calibration, run=cpu.run), keep_relu)
        gain = reduce_gain(mean, granularity).astype(np.float32)
        meta = dict(node.metadata or {})
        meta["snnc"] = {**meta.get("snnc", {}), "fused_from": fused_from(node), "granularity": granularity,
                        "relu": "kept (rectify)" if keep_relu else ("dropped" if rectifies(node) else "none"),
                        "calibration_samples": int(len(calibration)), "upstream": upstream}
        g.nodes[name] = ext.TimeGain(gain=gain, shape=node.shape, metadata=meta, rectify=keep_relu)
        deltas[name] = {"gain_min": float(gain.min()), "gain_max": float(gain.max()),
                        "gain_mean": float(gain.mean()), "factor_std_over_samples": float(std.mean()),
                        "relu": meta["snnc"]["relu"], "gain_shape": list(gain.shape)}
    return g, deltas


@pytest.fixture
def cuts(monkeypatch):
    """The (name, cut) pairs for which the pass probed from stored currents."""
    taken, original = [], probe_module.cut_probe_graph

    def spy(g, name, cut):
        sub = original(g, name, cut)
        if sub is not None:
            taken.append((name, cut))
        return sub

    monkeypatch.setattr(probe_module, "cut_probe_graph", spy)
    return taken


# T = 20: the simulator's chunks (64 // T = 3 samples) split each batch; N = 37: a partial last batch
@pytest.mark.parametrize("attention,T", [("asa", 20), ("asa", 4), ("tcsa", 4), ("ca", 6)])
def test_byte_identical_to_probing_from_frames(attention, T, cuts):
    g0, _ = fold_batchnorm(tiny_graph(attention, seed=7, T=T))
    x = tiny_frames(37, seed=11, T=T)
    for upstream in ("fused", "exact"):
        for rectify in (True, False):
            for gran in ("t", "tc", "tchw", "c"):
                cuts.clear()
                g, rec = fuse_asa_gains(g0, run=cpu.run, calibration=x, granularity=gran, rectify=rectify,
                                        upstream=upstream)
                want, deltas = old_fuse(g0, x, gran, upstream, rectify)
                assert cuts == [("b1_attn", "b0_attn"), ("b2_attn", "b1_attn")]
                assert snapshot(g) == snapshot(want), (upstream, rectify, gran)
                assert rec.deltas == deltas


def test_path_around_the_cut_falls_back(cuts):
    g0, _ = fold_batchnorm(tiny_graph("asa", seed=2))
    g0.edges.append(("b1_pool", "b1_lif"))  # b1_lif sums the attended and the raw current: b1_attn is no cut
    x = tiny_frames(5, seed=2)
    assert cut_probe_graph(g0, "b2_attn", "b1_attn") is None
    assert cut_probe_graph(g0, "b0_attn", "b1_attn") is None  # the cut is not upstream
    assert cut_probe_graph(g0, "b1_attn", "b0_attn") is not None
    g, _ = fuse_asa_gains(g0, run=cpu.run, calibration=x, granularity="tc")
    assert cuts == [("b1_attn", "b0_attn")]
    assert snapshot(g) == snapshot(old_fuse(g0, x, "tc", "fused", True)[0])


def test_stored_currents_equal_the_probe_from_frames():
    g0, _ = fold_batchnorm(tiny_graph("asa", seed=4, T=8))
    x = tiny_frames(20, seed=4, T=8)
    stored = list(probe_batches(g0, "b0_attn", x, run=cpu.run))
    direct = list(probe_batches(g0, "b1_attn", x, run=cpu.run))
    from_cut = list(probe_module.probe_batches_from(g0, "b1_attn", "b0_attn", stored, x, run=cpu.run))
    assert stored == [None, None]  # released once used
    assert len(from_cut) == len(direct) == 2
    for a, b in zip(from_cut, direct):
        assert a.dtype == b.dtype == np.float32 and a.tobytes() == b.tobytes()
