r"""Static bounds proving that a fixed-point graph's float32 convolutions are exact.

ONNX Runtime has no float64 ``Conv``, so fixed-point convolutions run in float32 on integer values,
which is exact while every partial sum is an integer of magnitude ≤ 2^24. Bounds B on max |signal|
propagate through the graph (edges summed: bounds add):

    Input: FRAME_MAX (integer event counts, checked at run time);  LoihiLIF: 1 (spikes);
    SumPool2d: B·k_h·k_w;  MaxPool2d, Flatten: B;  TimeGain: B·max|gain_mant| / 2^gain_shift;
    Conv2d / Affine / Linear: B·max_o Σ_j |W_oj| + max |b| (a Conv's output wraps into [−2^23, 2^23))

and a Conv2d is exact when B_in · max_o Σ_j |W_oj| ≤ 2^24 (every partial sum is bounded by the full sum of
absolute terms).
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import node_kind, predecessors, topological_order
from snnc.compiler.ir.shapes import pair
from snnc.errors import SnncError

FRAME_MAX = 255
EXACT_LIMIT = 2.0**24
CONV_CLAMP = 2.0**23


def check_fixed_convs_exact(g: nir.NIRGraph) -> dict[str, float]:
    """Bound of every node's output; SnncError naming a Conv2d whose float32 sums could be inexact."""
    pred = predecessors(g)
    bound: dict[str, float] = {}
    for name in topological_order(g):
        node = g.nodes[name]
        kind = node_kind(node)
        b_in = sum(bound.get(p, 1.0) for p in pred.get(name, []))  # recurrent sources: spikes
        if kind == "Input":
            bound[name] = float(FRAME_MAX)
        elif kind == "LoihiLIF":
            bound[name] = 1.0
        elif kind in ("Conv2d", "Affine", "Linear"):
            w = np.abs(np.asarray(node.weight, np.float64))
            row = float(w.reshape(w.shape[0], -1).sum(axis=1).max()) if w.size else 0.0
            bias = float(np.max(np.abs(np.asarray(getattr(node, "bias", 0.0))), initial=0.0))
            if kind == "Conv2d" and b_in * row > EXACT_LIMIT:
                raise SnncError(f"onnx target: Conv2d {name!r}: integer sums may reach {b_in * row:.3g} > 2^24, beyond "
                                "float32 exactness (ONNX Runtime has no float64 Conv); use --backend cpu")
            out = b_in * row + bias
            bound[name] = min(out, CONV_CLAMP) if kind == "Conv2d" else out
        elif kind == "SumPool2d":
            kh, kw = pair(node.kernel_size)
            bound[name] = b_in * kh * kw
        elif kind == "TimeGain" and np.asarray(node.gain_mant).size:
            bound[name] = b_in * float(np.max(np.abs(node.gain_mant))) / 2.0 ** int(node.gain_shift)
        else:
            bound[name] = b_in
    return bound
