"""The NIR paper's NIR → Lava fixed-point mapping of its single-LIF task, as one IR rewrite.

Source: ``paper/01_lif/_lava_nir.py`` of github.com/neuromorphs/NIR (the script that produced
``lif_lava_cpu_fixed.csv``). For ``Affine(w) → LIF(tau, v_threshold)`` at step dt it builds
``Dense(int32(w·256)) → Dense(int32(dt/tau·256)) → LIF(du, dv, vth)`` with

    du = int(1.0 · 4095) = 4095 (no current memory),  dv = int(dt/tau · 4095),
    vth = int(v_threshold · 131071) >> 9,  bias 0.

Lava's bit-accurate ``Dense`` receives its input as booleans, so the second Dense sees 1 whenever
the first one's output is non-zero: for a binary input spike s the neuron gets
a_in = int32(dt/tau · 256) · [int32(w·256)·s ≠ 0]. For the paper's one-input neuron this is a single
``Affine`` with integer weight int32(dt/tau·256) (0 where int32(w·256) = 0) — one delaying node under
lava timing, which is what the recorded trace shows (input at step t, first voltage at t + 1).

Both the CPU simulator's tests and the Lava backend use :func:`paper_lif_to_fixed`, so the mapping
of this reference case is defined once.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, node_kind, predecessors


def paper_lif_params(tau: float, v_threshold: float, dt: float) -> dict[str, int]:
    """(du, dv, vth, input weight) of ``_lava_nir.py`` for one LIF neuron.

    Defined once in :func:`snnc.compiler.fixed_point.nir_lif_to_lava` (shared with the Lava backend)."""
    from snnc.compiler.fixed_point import nir_lif_to_lava

    p = nir_lif_to_lava(tau, 1.0, v_threshold, dt)
    return {"du": p.du_int, "dv": p.dv_int, "vth": p.vth_int, "weight": p.weight_int}


def paper_lif_to_fixed(graph: nir.NIRGraph, dt: float) -> nir.NIRGraph:
    """The fixed-point graph (LoihiLIF + integer Affine) of an ``Affine → LIF`` graph of single neurons."""
    g = copy_graph(graph)
    pred = predecessors(g)
    for name, node in list(g.nodes.items()):
        if node_kind(node) != "LIF":
            continue
        (syn,) = pred[name]
        aff = g.nodes[syn]
        if node_kind(aff) != "Affine" or np.asarray(aff.weight).shape != (1, 1) or np.any(np.asarray(aff.bias) != 0):
            raise ValueError(f"paper mapping: {name!r} must be fed by a bias-free 1x1 Affine")
        p = paper_lif_params(float(np.asarray(node.tau).reshape(-1)[0]),
                             float(np.asarray(node.v_threshold).reshape(-1)[0]), dt)
        w1 = np.asarray(aff.weight, np.float64) * 256
        w = np.where(w1.astype(np.int32) != 0, p["weight"], 0).astype(np.float32)
        g.nodes[syn] = nir.Affine(weight=w, bias=np.zeros(1, np.float32))
        g.nodes[name] = ext.LoihiLIF(du=p["du"], dv=p["dv"], vth=p["vth"], bias_mant=np.zeros(1, np.int64),
                                     bias_exp=np.zeros(1, np.int64), shape=np.array([1]))
    meta = dict(g.metadata or {})
    meta["snnc"] = {**meta.get("snnc", {}), "numerics": "fixed", "threshold": ">", "dt": float(dt)}
    g.metadata = meta
    return g
