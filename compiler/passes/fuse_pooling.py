r"""``fuse_pooling``: a convolution followed by a pooling of its output becomes one strided convolution.

Conv2d W (kernel k, stride s, padding p, dilation d) followed by AvgPool2d / SumPool2d (kernel K,
stride S, no padding), along each spatial axis:

.. math:: \mathrm{pool}(y)[i] = \kappa \sum_{u<K} y[S i + u], \quad y[j] = \sum_{a<k} W[a]\, x_p[s j + d a] + b

    = \sum_{a'} W'[a']\, x_p[sS\, i + a'] + \kappa K b, \qquad W'[a'] = \kappa \sum_{u,\,a:\; s u + d a = a'} W[a]

with κ = 1/(K_h K_w) for AvgPool2d and 1 for SumPool2d: one convolution of kernel
d(k − 1) + 1 + s(K − 1), stride s·S, padding p, dilation 1 and bias κ K_h K_w b (= b for AvgPool2d).
The output sizes agree: position i is valid in both iff s(S i + K − 1) ≤ H + 2p − d(k − 1) − 1.
For a 3×3/s1/p1 conv and a 2×2 average pool this is the 4×4/s2/p1 kernel ¼ Σ of the 3×3 kernel at
the four offsets (the formula above with k = 3, s = d = 1, K = S = 2). Exact in exact arithmetic (float64 maths, stored in the weights'
dtype).

Only fused when the conv feeds nothing but the pool and the pool has no other input (else the
pre-pool signal is still needed); a padded pool or 'same'/'valid' string padding is left alone and
noted in the record.

``lower_pooling`` (for backends without pooling): AvgPool2d / SumPool2d (K, S, p) on C channels
becomes the depthwise Conv2d of :func:`snnc.compiler.ir.pooling.pool_as_depthwise` (weight κ·1 of shape
(C, 1, K_h, K_w), groups C, stride S, padding p, zero bias).
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import copy_graph, node_kind
from snnc.compiler.ir.kinds import POOL_KINDS
from snnc.compiler.ir.pooling import pool_as_depthwise, pool_factor
from snnc.compiler.ir.shapes import infer_shapes, pair, shape_of
from snnc.compiler.passes.base import PassRecord, register_pass
from snnc.compiler.passes.surgery import bypass, only_pred, only_succ


def fuse_conv_pool_params(w: np.ndarray, b: np.ndarray | None, stride: tuple[int, int], dilation: tuple[int, int],
                          pool_kernel: tuple[int, int], pool_stride: tuple[int, int], kappa: float
                          ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(W', b', stride') of the single conv equal to pool(conv(x)); float64 (see module docstring)."""
    w64 = np.asarray(w, dtype=np.float64)
    c_out, c_in, kh, kw = w64.shape
    (sh, sw), (dh, dw), (ph, pw) = stride, dilation, pool_kernel
    fh, fw = dh * (kh - 1) + 1 + sh * (ph - 1), dw * (kw - 1) + 1 + sw * (pw - 1)
    fused = np.zeros((c_out, c_in, fh, fw))
    for u in range(ph):
        for v in range(pw):
            rows = sh * u + dh * np.arange(kh)
            cols = sw * v + dw * np.arange(kw)
            fused[:, :, rows[:, None], cols[None, :]] += w64
    fused *= kappa
    b64 = np.zeros(c_out) if b is None else np.asarray(b, dtype=np.float64).reshape(c_out)
    bias = b64 * kappa * ph * pw
    return fused, bias, (sh * pool_stride[0], sw * pool_stride[1])


def _fusable(g: nir.NIRGraph, pool: str) -> tuple[str | None, str]:
    """(conv name or None, reason when None)."""
    node = g.nodes[pool]
    conv = only_pred(g, pool)
    if conv is None:
        return None, "pool has several inputs"
    if node_kind(g.nodes[conv]) != "Conv2d":
        return None, f"input {conv!r} is a {node_kind(g.nodes[conv])}, not a Conv2d"
    if only_succ(g, conv) != pool:
        return None, f"conv {conv!r} also feeds other nodes"
    if max(pair(node.padding)) != 0:
        return None, "padded pool"
    if isinstance(g.nodes[conv].padding, str):
        return None, f"conv {conv!r} has string padding {g.nodes[conv].padding!r}"
    return conv, ""


@register_pass
def fuse_pooling(graph: nir.NIRGraph) -> tuple[nir.NIRGraph, PassRecord]:
    """Merge every Conv2d → AvgPool2d/SumPool2d pair into one strided Conv2d (module docstring)."""
    g = copy_graph(graph)
    rec = PassRecord("fuse_pooling")
    for pool in sorted(n for n, node in g.nodes.items() if node_kind(node) in POOL_KINDS):
        conv, reason = _fusable(g, pool)
        if conv is None:
            rec.details.setdefault("not_fused", {})[pool] = reason
            continue
        c, p = g.nodes[conv], g.nodes[pool]
        kernel = pair(p.kernel_size)
        w, b, stride = fuse_conv_pool_params(c.weight, c.bias, pair(c.stride), pair(c.dilation), kernel,
                                             pair(p.stride), pool_factor(node_kind(p), kernel))
        dtype = np.result_type(np.asarray(c.weight).dtype, np.float32)
        g.nodes[conv] = nir.Conv2d(input_shape=c.input_shape, weight=w.astype(dtype), stride=np.array(stride),
                                   padding=np.array(pair(c.padding)), dilation=np.array([1, 1]), groups=c.groups,
                                   bias=b.astype(dtype), metadata=dict(c.metadata or {}))
        bypass(g, pool)
        rec.changed.append(conv)
        rec.removed.append(pool)
        rec.deltas[conv] = {"pool": pool, "kernel": list(w.shape[2:]), "stride": list(stride),
                            "fan_in_before": int(np.prod(np.shape(c.weight)[1:])),
                            "fan_in_after": int(np.prod(w.shape[1:])),
                            "storage_rounding": float(np.max(np.abs(w.astype(dtype).astype(np.float64) - w)))}
    rec.summary = (f"fused {len(rec.removed)} pool(s) into {', '.join(rec.changed)}" if rec.removed
                   else "no conv → pool pair")
    return g, rec


@register_pass
def lower_pooling(graph: nir.NIRGraph) -> tuple[nir.NIRGraph, PassRecord]:
    """Replace every AvgPool2d/SumPool2d by the equal depthwise Conv2d (module docstring)."""
    g = copy_graph(graph)
    typed = infer_shapes(g)
    rec = PassRecord("lower_pooling")
    for pool in sorted(n for n, node in g.nodes.items() if node_kind(node) in POOL_KINDS):
        p = g.nodes[pool]
        c, h, w = shape_of(typed, pool, "input")
        kernel = pair(p.kernel_size)
        weight = pool_as_depthwise(node_kind(p), c, kernel).astype(np.float32)
        g.nodes[pool] = nir.Conv2d(input_shape=np.array([h, w]), weight=weight, stride=np.array(pair(p.stride)),
                                   padding=np.array(pair(p.padding)), dilation=np.array([1, 1]), groups=c,
                                   bias=np.zeros(c, dtype=np.float32), metadata=dict(p.metadata or {}))
        rec.changed.append(pool)
        if max(pair(p.padding)) > 0 and node_kind(p) == "AvgPool2d":
            rec.warnings.append(f"{pool}: padded AvgPool2d lowered with zero padding counted in the average")
    rec.summary = (f"lowered {len(rec.changed)} pool(s) to depthwise Conv2d" if rec.changed else "no pooling")
    return g, rec
