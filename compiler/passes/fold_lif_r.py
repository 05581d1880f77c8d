r"""``fold_lif_r``: move each LIF's input resistance r into its synapses, leaving r = 1.

NIR's LIF integrates v ← v + (dt/τ)(v_leak − v + r I). Some simulators ignore r (Norse 1.1.0's
``from_nir`` warns and drops it), so a graph for third-party tools carries r = 1
and the synapse feeding the population is scaled instead:

.. math:: W' = r\,W, \quad b' = r\,b, \quad r' = 1

exact because the synapse (and a TimeGain or pooling between synapse and neuron) is linear and
acts per channel. r must be equal
across the positions a weight is shared over (per output channel for a Conv2d). The LIF's
``metadata["snnc"]["gain"]`` (= a·r) becomes a = dt/τ; β is unchanged. Populations whose input is
not a single synapse (optionally through one TimeGain) are left alone and noted in the record.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import copy_graph, node_kind
from snnc.compiler.passes.base import PassRecord, register_pass
from snnc.compiler.passes.surgery import feeding_synapse


LINEAR_PER_CHANNEL = ("TimeGain", "AvgPool2d", "SumPool2d")


def _synapse_of(g: nir.NIRGraph, lif: str) -> str | None:
    """The synapse feeding ``lif`` alone, possibly through per-channel linear nodes (gain, pooling)."""
    return feeding_synapse(g, lif, LINEAR_PER_CHANNEL)


def per_channel_r(r: np.ndarray) -> np.ndarray | None:
    """r per output channel (axis 0), or None when r varies over the positions of a channel."""
    r = np.asarray(r, np.float64)
    flat = r.reshape(r.shape[0], -1)
    return flat[:, 0] if np.all(flat == flat[:, :1]) else None


@register_pass
def fold_lif_r(graph: nir.NIRGraph) -> tuple[nir.NIRGraph, PassRecord]:
    """Set every foldable LIF's r to 1, scaling its synapse by r (module docstring)."""
    g = copy_graph(graph)
    rec = PassRecord("fold_lif_r")
    dt = float(((g.metadata or {}).get("snnc") or {}).get("dt", 1e-3))
    for name in sorted(n for n, node in g.nodes.items() if node_kind(node) == "LIF"):
        lif = g.nodes[name]
        if np.all(np.asarray(lif.r) == 1):
            continue
        syn = _synapse_of(g, name)
        r = per_channel_r(lif.r)
        if syn is None or r is None:
            rec.details.setdefault("not_folded", []).append(name)
            continue
        s = g.nodes[syn]
        w = np.asarray(s.weight, np.float64)
        dtype = np.result_type(np.asarray(s.weight).dtype, np.float32)
        w_new = (w * r.reshape((-1,) + (1,) * (w.ndim - 1))).astype(dtype)
        if isinstance(s, nir.Conv2d):
            g.nodes[syn] = nir.Conv2d(input_shape=s.input_shape, weight=w_new, stride=s.stride, padding=s.padding,
                                      dilation=s.dilation, groups=s.groups,
                                      bias=(np.asarray(s.bias, np.float64) * r).astype(dtype),
                                      metadata=dict(s.metadata or {}))
        elif isinstance(s, nir.Affine):
            g.nodes[syn] = nir.Affine(weight=w_new, bias=(np.asarray(s.bias, np.float64) * r).astype(dtype),
                                      metadata=dict(s.metadata or {}))
        else:
            g.nodes[syn] = nir.Linear(weight=w_new, metadata=dict(s.metadata or {}))
        meta = dict(lif.metadata or {})
        if "snnc" in meta:
            a = np.float32(dt / np.asarray(lif.tau, np.float64).reshape(-1)[0])
            meta["snnc"] = {**meta["snnc"], "gain": a}
        g.nodes[name] = nir.LIF(tau=lif.tau, r=np.ones_like(np.asarray(lif.r)), v_leak=lif.v_leak,
                                v_threshold=lif.v_threshold, v_reset=lif.v_reset, metadata=meta)
        rec.changed += [syn, name]
        rec.deltas[name] = {"synapse": syn, "r_min": float(r.min()), "r_max": float(r.max())}
    rec.summary = (f"r folded into {len(rec.deltas)} synapse(s)" if rec.deltas else "every LIF already has r = 1")
    return g, rec
