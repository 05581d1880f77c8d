r"""``fold_batchnorm``: fold inference-mode BatchNorm into the preceding Conv2d / Affine.

With σ_c = sqrt(var_c + ε), per output channel c:

.. math:: W'_c = W_c \, \gamma_c / \sigma_c, \qquad b'_c = (b_c - \mu_c)\, \gamma_c / \sigma_c + \beta_c

so that BN(W x + b) = W' x + b' exactly (in exact arithmetic; the maths runs in float64 and the
result is stored in the weights' dtype, float32 for NIR graphs).

A BatchNorm may also follow a *per-channel linear* pooling of the synapse output
(conv → AvgPool2d/SumPool2d → BN, as LIF-SNN-3 blocks 1 and 2). Pooling P with zero padding
maps a per-channel constant b to κ·b (κ = 1 for AvgPool2d, κ = k_h·k_w for SumPool2d), so
BN(P(Wx + b)) = P(W'x) + κ b'' with b'' = ((κ b − μ) γ/σ + β)/κ: the fold goes through the pool.

Refused (PassError naming the node): a BN after anything else (a neuron, an Input, Flatten, ...),
after a fan-in sum (several incoming edges), after a synapse or pool whose output also feeds
other nodes (the un-normalised signal is needed elsewhere), or through a padded pool.
A ``Linear`` followed by BN becomes an ``Affine``.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import copy_graph, node_kind
from snnc.compiler.ir.kinds import POOL_KINDS as POOLS, SYNAPSE_KINDS as SYNAPSES
from snnc.compiler.ir.shapes import pair
from snnc.compiler.passes.base import PassError, PassRecord, register_pass
from snnc.compiler.passes.surgery import bypass, describe, only_pred, only_succ



def fold_bn_params(w: np.ndarray, b: np.ndarray | None, mean: np.ndarray, var: np.ndarray, eps: float,
                   gamma: np.ndarray, beta: np.ndarray, bias_gain: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(W', b') in float64 for BN(P(W x + b)) where P maps a per-channel constant b to ``bias_gain``·b.

    ``w`` has the output channel on axis 0 (Conv2d (C_out, C_in/g, kh, kw) or Affine (out, in)).
    W' = W γ/σ, b' = ((κ b − μ) γ/σ + β)/κ with σ = sqrt(var + eps), κ = ``bias_gain``.
    """
    w64 = np.asarray(w, dtype=np.float64)
    c = w64.shape[0]
    b64 = np.zeros(c) if b is None else np.asarray(b, dtype=np.float64).reshape(c)
    scale = np.asarray(gamma, dtype=np.float64).reshape(c) / np.sqrt(np.asarray(var, dtype=np.float64).reshape(c)
                                                                     + float(eps))
    w_new = w64 * scale.reshape((c,) + (1,) * (w64.ndim - 1))
    k = float(bias_gain)
    b_new = ((k * b64 - np.asarray(mean, dtype=np.float64).reshape(c)) * scale
             + np.asarray(beta, dtype=np.float64).reshape(c)) / k
    return w_new, b_new


def _pool_bias_gain(g: nir.NIRGraph, name: str) -> float:
    node = g.nodes[name]
    if max(pair(node.padding)) != 0:
        raise PassError(f"fold_batchnorm: cannot fold a BatchNorm through the padded pool {describe(g, name)}")
    kh, kw = pair(node.kernel_size)
    return 1.0 if node_kind(node) == "AvgPool2d" else float(kh * kw)


def _find_synapse(g: nir.NIRGraph, bn: str) -> tuple[str, float]:
    """(synapse name, κ) for BatchNorm ``bn``, or PassError naming why it cannot be folded."""
    p = only_pred(g, bn)
    if p is None:
        raise PassError(f"fold_batchnorm: BatchNorm {bn!r} has several inputs (a fan-in sum); it cannot be folded")
    kind, gain = node_kind(g.nodes[p]), 1.0
    if kind in POOLS:
        if only_succ(g, p) != bn:
            raise PassError(f"fold_batchnorm: BatchNorm {bn!r} follows {describe(g, p)}, whose output also feeds "
                            "other nodes; it cannot be folded")
        gain = _pool_bias_gain(g, p)
        pool = p
        p = only_pred(g, pool)
        if p is None:
            raise PassError(f"fold_batchnorm: BatchNorm {bn!r} follows pool {pool!r}, which sums several inputs")
        kind = node_kind(g.nodes[p])
        if kind in SYNAPSES and only_succ(g, p) != pool:
            raise PassError(f"fold_batchnorm: BatchNorm {bn!r}: synapse {describe(g, p)} also feeds other nodes")
    elif kind in SYNAPSES and only_succ(g, p) != bn:
        raise PassError(f"fold_batchnorm: BatchNorm {bn!r}: synapse {describe(g, p)} also feeds other nodes")
    if kind not in SYNAPSES:
        raise PassError(f"fold_batchnorm: BatchNorm {bn!r} follows {describe(g, p)}; only a BatchNorm after "
                        "Conv2d/Affine/Linear (optionally through AvgPool2d/SumPool2d) can be folded")
    return p, gain


def _folded_node(node: nir.NIRNode, w: np.ndarray, b: np.ndarray) -> nir.NIRNode:
    dtype = np.result_type(np.asarray(node.weight).dtype, np.float32)
    w, b = w.astype(dtype), b.astype(dtype)
    meta = dict(node.metadata or {})
    if isinstance(node, nir.Conv2d):
        return nir.Conv2d(input_shape=node.input_shape, weight=w, stride=node.stride, padding=node.padding,
                          dilation=node.dilation, groups=node.groups, bias=b, metadata=meta)
    return nir.Affine(weight=w, bias=b, metadata=meta)


@register_pass
def fold_batchnorm(graph: nir.NIRGraph) -> tuple[nir.NIRGraph, PassRecord]:
    """Fold every BatchNorm into its synapse (see the module docstring); refuse the unfoldable."""
    g = copy_graph(graph)
    rec = PassRecord("fold_batchnorm")
    per_layer: dict[str, dict[str, float]] = {}
    for bn in sorted(n for n, node in g.nodes.items() if node_kind(node) == "BatchNorm"):
        node = g.nodes[bn]
        syn, gain = _find_synapse(g, bn)
        s = g.nodes[syn]
        b = None if isinstance(s, nir.Linear) and not isinstance(s, nir.Affine) else s.bias
        w_new, b_new = fold_bn_params(s.weight, b, node.running_mean, node.running_var, node.eps, node.weight,
                                      node.bias, gain)
        g.nodes[syn] = _folded_node(s, w_new, b_new)
        bypass(g, bn)
        rec.changed.append(syn)
        rec.removed.append(bn)
        sigma = np.sqrt(np.asarray(node.running_var, np.float64) + float(node.eps))
        ratio = np.asarray(node.weight, np.float64) / sigma
        per_layer[syn] = {
            "bn": bn, "scale_min": float(ratio.min()), "scale_max": float(ratio.max()),
            "max_abs_dw": float(np.max(np.abs(w_new - np.asarray(s.weight, np.float64)))),
            "max_abs_db": float(np.max(np.abs(b_new - (0.0 if b is None else np.asarray(b, np.float64))))),
            "storage_rounding": float(np.max(np.abs(g.nodes[syn].weight.astype(np.float64) - w_new))),
        }
    rec.deltas = per_layer
    rec.summary = (f"folded {len(rec.removed)} BatchNorm node(s) into {', '.join(rec.changed)}"
                   if rec.removed else "no BatchNorm")
    return g, rec
