r"""``fold_static_gains``: a TimeGain that is the same at every step folds into its synapse.

For a gain constant in time and per output channel, g[t, c, …] = r_c for all t and positions,

.. math:: r \odot (W x + b) = (r W) x + r b

so the synapse becomes W' = r·W, b' = r·b (rows of an Affine, output channels of a Conv2d; also
through an AvgPool2d/SumPool2d in between, which is linear per channel) and
the TimeGain disappears: exact, and the graph needs neither a gain stage nor a non-standard node
(TimeGains from ``fuse_asa_gains`` with granularity ``c``). TimeGains that vary in time or inside
a channel, or whose input is not a synapse feeding only them, are left alone and noted.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import copy_graph, node_kind
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.passes.base import PassRecord, register_pass
from snnc.compiler.passes.surgery import bypass, feeding_synapse


def static_channel_gain(gain: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """r_c (C,) when ``gain`` (T, *g) is constant over t and over each channel's positions, else None."""
    g = np.asarray(gain, np.float64)
    if g.size == 0 or np.any(g != g[:1]):
        return None
    full = np.broadcast_to(g[0], tuple(shape)).reshape(shape[0], -1)
    return full[:, 0].copy() if np.all(full == full[:, :1]) else None


@register_pass
def fold_static_gains(graph: nir.NIRGraph) -> tuple[nir.NIRGraph, PassRecord]:
    """Fold every time-constant, per-channel TimeGain into the synapse before it (module docstring)."""
    typed = infer_shapes(graph)
    g = copy_graph(graph)
    rec = PassRecord("fold_static_gains")
    for name in sorted(n for n, node in g.nodes.items() if node_kind(node) == "TimeGain"):
        node = g.nodes[name]
        r = static_channel_gain(node.gain, shape_of(typed, name, "input"))
        syn = feeding_synapse(g, name, ("AvgPool2d", "SumPool2d"))
        if node.rectify:
            rec.details.setdefault("not_folded", {})[name] = "rectifying gain (ReLU on the currents is not linear)"
            continue
        if r is None:
            rec.details.setdefault("not_folded", {})[name] = "gain varies in time or within a channel"
            continue
        if syn is None or node_kind(g.nodes[syn]) == "Linear":
            rec.details.setdefault("not_folded", {})[name] = "input is not a Conv2d/Affine feeding only this gain"
            continue
        s = g.nodes[syn]
        dtype = np.result_type(np.asarray(s.weight).dtype, np.float32)
        w = (np.asarray(s.weight, np.float64) * r.reshape((-1,) + (1,) * (np.ndim(s.weight) - 1))).astype(dtype)
        b = (np.asarray(s.bias, np.float64) * r).astype(dtype)
        if isinstance(s, nir.Conv2d):
            g.nodes[syn] = nir.Conv2d(input_shape=s.input_shape, weight=w, stride=s.stride, padding=s.padding,
                                      dilation=s.dilation, groups=s.groups, bias=b, metadata=dict(s.metadata or {}))
        else:
            g.nodes[syn] = nir.Affine(weight=w, bias=b, metadata=dict(s.metadata or {}))
        bypass(g, name)
        rec.changed.append(syn)
        rec.removed.append(name)
        rec.deltas[syn] = {"gain": name, "r_min": float(r.min()), "r_max": float(r.max())}
    rec.summary = (f"folded {len(rec.removed)} static gain(s) into {', '.join(rec.changed)}" if rec.removed
                   else "no time-constant TimeGain")
    return g, rec
