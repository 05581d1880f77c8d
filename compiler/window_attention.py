"""Window attention in the IR: the node kinds that multiply a layer's input current by a data-dependent
factor computed from the whole window, and that factor, exactly as the PyTorch models compute it.

    y[n, t, c, h, w] = x[n, t, c, h, w] · f(x_n)[t, c, h, w]

- ``ASA`` (and its squeeze/excitation ablations): :func:`snnc.models.asa.asa_factor`;
- ``MultiDimAttention`` (TA, CA, SA, TCSA): :func:`snnc.models.ma_attention.ma_factor`.

The CPU simulator runs ``x * factor(node, x)`` in exact mode; ``fuse_asa_gains`` freezes the factor's
mean over calibration data into a :class:`~snnc.compiler.ir.nodes.TimeGain`, from :func:`factor_sums`. Torch is imported
lazily (the IR itself does not need it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import node_kind

ATTENTION_KINDS = ("ASA", "MultiDimAttention")


def is_attention(node: nir.NIRNode) -> bool:
    return node_kind(node) in ATTENTION_KINDS


def _array_or_none(a: np.ndarray) -> np.ndarray | None:
    return None if np.asarray(a).size == 0 else a


def _ma_weights(node: nir.NIRNode) -> tuple:
    """(time_fc1, time_fc2, channel_fc1, channel_fc2, spatial) of a MultiDimAttention node, None where absent."""
    return tuple(_array_or_none(getattr(node, k)) for k in ("time_fc1", "time_fc2", "channel_fc1", "channel_fc2",
                                                             "spatial"))


def asa_arguments(node: nir.NIRNode) -> tuple[tuple, dict[str, Any]]:
    """(positional, keyword) arguments of ``asa_factor`` after x for an ASA node."""
    pos = (_array_or_none(node.alpha), _array_or_none(node.gamma), _array_or_none(node.fc1),
           _array_or_none(node.fc2), node.conv1, node.conv2, node.lam)
    return pos, {"squeeze": node.squeeze, "excitation": node.excitation, "eca": _array_or_none(node.eca)}


def _currents(x):
    """Currents x [N, T, C, H, W] (torch tensor or NumPy array) as a float32 torch tensor."""
    import torch

    return torch.as_tensor(np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x, dtype=torch.float32)


def factor(node: nir.NIRNode, x):
    """The exact float32 factor f (a torch tensor of x's shape) of attention ``node`` for currents x
    [N, T, C, H, W] (torch tensor or NumPy array)."""
    import torch

    x = _currents(x)
    kind = node_kind(node)
    with torch.no_grad():
        if kind == "ASA":
            from snnc.models.asa import asa_factor

            pos, kw = asa_arguments(node)
            return asa_factor(x, *pos, **kw)
        if kind == "MultiDimAttention":
            from snnc.models.ma_attention import ma_factor

            return ma_factor(x, node.dims, *_ma_weights(node))
    raise ValueError(f"{kind} is not a window-attention node")


def rectifies(node: nir.NIRNode) -> bool:
    """Whether the attention ends with a ReLU on the currents (MA-SNN's TA/CA/SA/TCSA)."""
    return node_kind(node) == "MultiDimAttention"


def gate(node: nir.NIRNode, x):
    """The multiplicative gate of ``node`` without its ReLU, broadcast to x's shape: ``factor`` for ASA,
    a_t a_c a_s for MultiDimAttention (so that factor = gate · [x > 0] there)."""
    import torch

    if not rectifies(node):
        return factor(node, x)
    from snnc.models.ma_attention import ma_factor

    x = _currents(x)
    with torch.no_grad():
        g = ma_factor(x, node.dims, *_ma_weights(node), relu=False)
    return g.expand_as(x)


def sample_sums(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_i f_i, Σ_i f_i²) over axis 0 in float64, added in sample order, one sample converted at a time
    (the same float64 sums as ``f.astype(float64).sum(axis=0)``, whose outer-axis reduction adds rows in
    order, without a float64 copy of the batch); each square is rounded before it is added."""
    first = f[0].astype(np.float64)
    s, sq = first, first * first
    for row in f[1:]:
        v = row.astype(np.float64)
        s += v
        v *= v
        sq += v
    return s, sq


def factor_sums(node: nir.NIRNode, x, rectify: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sample_sums` of ``gate`` (``rectify``) or ``factor`` of ``node`` for currents x [N, T, C, H, W], each
    (T, C, H, W) float64. For ASA the factor is ``I ? A1 : A2`` per (sample, t, c) (:mod:`snnc.models.fused_asa`),
    and the fused kernel forms the same sums from I, A1 and A2 without the (N, T, C, H, W) factor; elsewhere, or
    when the kernel is off, the factor is materialised. Both give the same bits
    (tests/compiler/passes/test_fuse_asa_gains_sums.py)."""
    if node_kind(node) == "ASA" and len(x):
        from snnc.models import fused_asa
        from snnc.models.asa import _t, asa_masks

        xt = _currents(x)
        if fused_asa.applies(xt):
            (alpha, gamma, fc1, fc2, conv1, conv2, lam), kw = asa_arguments(node)
            imp = asa_masks(xt, alpha, gamma, fc1, fc2, lam, **kw)
            a1, a2 = fused_asa.attention_maps(xt, imp, _t(conv1, xt), _t(conv2, xt), lam)
            s, sq = fused_asa.factor_sums(imp, a1, a2)
            shape = tuple(xt.shape[1:])
            return s.numpy().reshape(shape), sq.numpy().reshape(shape)
    f = (gate if rectify else factor)(node, x).numpy()
    return sample_sums(f)
