"""Per-layer FLOPs (ASA-SNN supplement Table S2), parameter and neuron counts of an IR graph.

Table S2, per timestep of the equivalent ANN:

    conv:  FL = k_h · k_w · h · w · (c_in / groups) · c_out      (h, w: the conv's OUTPUT map,
           i.e. before any following pooling; Table S2 has no /groups, it assumes groups = 1)
    FC:    FL = i · o

The SNN cost of a layer is T · FL · Φ (Φ the firing rate of the layer's input, Eq. S1); that
product is the energy model's job (``inputs_from`` names the spiking layers whose rate is Φ).
Attention adds, per window (Table S1, :mod:`snnc.compiler.analysis.attention_cost`), e.g. for ASA
ΔMAC1 = 2 T²/r + 2·2·3·3·h·w (scores and the two spatial 3×3 convs) and ΔMAC2 = T · N (one multiply
per neuron per step); reported in ``attn_macs``.
Parameters count every learnable array (BatchNorm: γ, β; running statistics are buffers).
Neurons count the spiking populations (LIF, IF, CubaLIF, LoihiLIF).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import nir

from snnc.compiler.analysis.attention_cost import cost as attention_cost
from snnc.compiler.ir.graph_utils import node_kind, predecessors, reach, topological_order
from snnc.compiler.ir.kinds import DENSE_KINDS, SPIKING_KINDS, SYNAPSE_KINDS
from snnc.compiler.ir.shapes import infer_shapes, shape_of

PASS_THROUGH = ("Flatten", "SumPool2d", "AvgPool2d", "MaxPool2d", "BatchNorm", "Scale", "ASA", "MultiDimAttention",
                "TimeGain")

#: learnable parameter fields per node kind
PARAM_FIELDS: dict[str, tuple[str, ...]] = {
    "Conv2d": ("weight", "bias"), "Affine": ("weight", "bias"), "Linear": ("weight",),
    "BatchNorm": ("weight", "bias"), "ASA": ("alpha", "gamma", "fc1", "fc2", "eca", "conv1", "conv2"),
    "MultiDimAttention": ("time_fc1", "time_fc2", "channel_fc1", "channel_fc2", "spatial"),
}


@dataclass
class LayerStats:
    """One node's static cost. ``flops`` is Table S2's FL (MACs per step, 0 for non-synaptic nodes)."""

    name: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int = 0
    neurons: int = 0
    flops: int = 0
    attn_macs: int = 0
    inputs_from: list[str] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"], d["output_shape"] = list(self.input_shape), list(self.output_shape)
        return d


def _params(node: nir.NIRNode) -> int:
    fields = PARAM_FIELDS.get(node_kind(node), ())
    return int(sum(np.asarray(getattr(node, f)).size for f in fields))


def _conv_flops(node: nir.Conv2d, out_shape: tuple[int, ...]) -> tuple[int, str]:
    w = np.asarray(node.weight)
    c_out, c_in_per_group, kh, kw = w.shape
    groups = int(np.asarray(node.groups).reshape(-1)[0])
    fl = kh * kw * out_shape[1] * out_shape[2] * c_in_per_group * c_out
    note = f"k²·h·w·c_in·c_out, h×w {out_shape[1]}×{out_shape[2]}"
    if groups > 1:
        note += f" (/groups {groups})"
    return int(fl), note


def _spiking_sources(g: nir.NIRGraph, name: str, pred: dict[str, list[str]]) -> list[str]:
    """Spiking nodes (or Inputs) whose spikes reach ``name`` through non-synaptic nodes only."""
    return sorted(reach(g, name, pred, lambda k: k in SPIKING_KINDS or k == "Input", lambda k: k in PASS_THROUGH))


def analyze(g: nir.NIRGraph) -> list[LayerStats]:
    """Per-node stats in topological order (shapes inferred here; ``g`` is not modified)."""
    g = infer_shapes(g)
    pred = predecessors(g)
    rows: list[LayerStats] = []
    for name in topological_order(g):
        node = g.nodes[name]
        kind = node_kind(node)
        row = LayerStats(name, kind, shape_of(g, name, "input"), shape_of(g, name, "output"), params=_params(node))
        if kind == "Conv2d":
            row.flops, row.note = _conv_flops(node, row.output_shape)
            row.inputs_from = _spiking_sources(g, name, pred)
        elif kind in DENSE_KINDS:
            w = np.asarray(node.weight)
            row.flops, row.note = int(w.shape[0] * w.shape[1]), "i·o"
            row.inputs_from = _spiking_sources(g, name, pred)
        elif kind in SPIKING_KINDS:
            row.neurons = int(np.prod(row.output_shape))
        elif kind in ("ASA", "MultiDimAttention", "TimeGain"):
            c = attention_cost(node, row.output_shape)
            row.attn_macs = int(c["mac1"] + c["mac2"])
            row.note = f"ΔMAC1 {c['mac1']} + ΔMAC2 {c['mac2']} per window (Table S1)"
        rows.append(row)
    return rows


def layer_flops(g: nir.NIRGraph) -> dict[str, int]:
    """Synapse node name -> Table S2 FL (conv and FC nodes only)."""
    return {r.name: r.flops for r in analyze(g) if r.kind in SYNAPSE_KINDS}


def totals(rows: list[LayerStats]) -> dict[str, int]:
    """Sums over the rows: params, neurons, flops (Table S2 per step), attn_macs (per window)."""
    return {
        "params": int(sum(r.params for r in rows)),
        "neurons": int(sum(r.neurons for r in rows)),
        "flops": int(sum(r.flops for r in rows)),
        "attn_macs": int(sum(r.attn_macs for r in rows)),
        "compute_nodes": int(sum(r.kind not in ("Input", "Output") for r in rows)),
    }
