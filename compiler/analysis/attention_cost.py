r"""Extra parameters and multiplies of the attention nodes, per layer and per sample (supplement Table S1).

For one attention layer with output (C, H, W), T steps and N = C·H·W neurons, Table S1 charges:

    module   additional parameters       Δ_MAC1 (scores)              Δ_MAC2 (membrane scaling)
    TA       2·T·⌊T/r_t⌋                 2·T·⌊T/r_t⌋                  T·N
    CA       2·C·⌊C/r_c⌋                 T·2·C·⌊C/r_c⌋                T·N
    SA       2·k·k (table: k = 7)        T·2·k·k·H·W                  T·N
    ASA      2·T²/r + 2·2·3·3            2·T²/r + 2·2·3·3·H·W         T·N

TCSA is TA + CA + SA in every column (Δ_MAC2 = 3·T·N: "each additional attention dimension"
regulates every membrane potential once). ASA's α, γ (2 parameters) are omitted by the table.
The ASA ablations are charged in the same per-layer form, their excitation replacing 2·T²/r:
eca (1-D kernel of k taps) k parameters and T·k MACs, simam none and 3·T (square, divide, scale).
A fused :class:`TimeGain` costs Δ_MAC2 = T·N only (its gains are constants).

``executed`` counts what the reference simulator multiplies: the excitation runs on every channel
(ASA: C·2·T·⌊T/r⌋; r = 1: C·T²), TA and CA pass both the avg and the max descriptor through their MLP,
SA's conv runs once per window, and every dimension scales every current once (dims·T·N).
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import node_kind


def _mlp_hidden(w: np.ndarray) -> int:
    return int(np.asarray(w).shape[0])


def _asa_excitation(node, c: int) -> tuple[int, int, int]:
    """(Table-S1-form params, Table-S1-form MACs, executed MACs) of the ASA excitation."""
    t, r = int(node.T), int(node.reduction)
    if node.excitation == "mlp":
        fc = 2 * t * t // r
        executed = c * t * t if r == 1 else c * 2 * t * (t // r)
        return fc, fc, executed
    if node.excitation == "eca":
        k = int(np.asarray(node.eca).size)
        return k, t * k, c * t * k
    return 0, 3 * t, c * 3 * t  # simam


def cost(node: nir.NIRNode, shape: tuple[int, ...]) -> dict[str, int]:
    """{"params", "mac1", "mac2"} in Table S1's form and {"executed_mac1", "executed_mac2"}, per sample,
    for an attention or TimeGain node whose signal has ``shape`` (C, H, W) (or any shape for TimeGain)."""
    kind = node_kind(node)
    n = int(np.prod(shape))
    if kind == "TimeGain":
        t = int(np.asarray(node.gain).shape[0])
        return {"params": 0, "mac1": 0, "mac2": t * n, "executed_mac1": 0, "executed_mac2": t * n}
    c, h, w = (int(v) for v in shape)
    t = int(node.T)
    if kind == "ASA":
        p_fc, m_fc, e_fc = _asa_excitation(node, c)
        return {"params": p_fc + 36, "mac1": m_fc + 36 * h * w, "mac2": t * n,
                "executed_mac1": e_fc + 36 * h * w, "executed_mac2": t * n}
    if kind == "MultiDimAttention":
        params = mac1 = executed = 0
        if "t" in node.dims:
            ht = _mlp_hidden(node.time_fc1)
            params += 2 * t * ht
            mac1 += 2 * t * ht
            executed += 2 * 2 * t * ht
        if "c" in node.dims:
            hc = _mlp_hidden(node.channel_fc1)
            params += 2 * c * hc
            mac1 += t * 2 * c * hc
            executed += 2 * 2 * c * hc
        if "s" in node.dims:
            k = int(np.asarray(node.spatial).shape[-1])
            params += 2 * k * k
            mac1 += t * 2 * k * k * h * w
            executed += 2 * k * k * h * w
        dims = len(node.dims)
        return {"params": params, "mac1": mac1, "mac2": dims * t * n,
                "executed_mac1": executed, "executed_mac2": dims * t * n}
    raise ValueError(f"{kind} has no attention cost")
