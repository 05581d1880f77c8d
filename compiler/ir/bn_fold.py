"""A local, pure BatchNorm fold used by ``snnc export`` when ``snnc.compiler.passes.fold_batchnorm``
is not available.

For a ``Conv2d``/``Affine`` whose only consumer is a ``BatchNorm`` (running statistics), with
s_c = γ_c / sqrt(σ²_c + ε):  W'[c] = W[c] · s_c,  b'[c] = (b[c] − μ_c) · s_c + β_c.
Computed in float64, stored as float32. Other BatchNorms are left in place.
"""

from __future__ import annotations

import copy

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, make_graph, predecessors, successors


def fold_batchnorm_local(g: nir.NIRGraph) -> nir.NIRGraph:
    """A new graph with every foldable BatchNorm merged into the preceding synapse (input untouched)."""
    g = copy_graph(g)
    pred, succ = predecessors(g), successors(g)
    nodes, edges = dict(g.nodes), list(g.edges)
    for name, node in g.nodes.items():
        if not isinstance(node, ext.BatchNorm) or len(pred[name]) != 1:
            continue
        src = pred[name][0]
        syn = nodes[src]
        if not isinstance(syn, (nir.Conv2d, nir.Affine)) or succ[src] != [name]:
            continue
        s = np.asarray(node.weight, np.float64) / np.sqrt(np.asarray(node.running_var, np.float64) + float(node.eps))
        shift = np.asarray(node.bias, np.float64) - np.asarray(node.running_mean, np.float64) * s
        w = np.asarray(syn.weight, np.float64)
        folded = copy.deepcopy(syn)
        folded.weight = (w * s.reshape((-1,) + (1,) * (w.ndim - 1))).astype(np.float32)
        folded.bias = (np.asarray(syn.bias, np.float64) * s + shift).astype(np.float32)
        nodes[src] = folded
        del nodes[name]
        edges = [(a, b) for a, b in edges if (a, b) != (src, name)]
        edges = [(src if a == name else a, b) for a, b in edges]
    return make_graph(nodes, edges, g.metadata)
