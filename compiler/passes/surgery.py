"""Graph surgery shared by the passes: neighbours, bypassing a node, replacing a node.

All helpers act on a graph the pass owns (a :func:`copy_graph` of its input), never on the input.
"""

from __future__ import annotations

import nir

from snnc.compiler.ir.graph_utils import node_kind, predecessors, successors
from snnc.compiler.passes.base import PassError


def only_pred(g: nir.NIRGraph, name: str) -> str | None:
    """The single predecessor of ``name``, or None when it has zero or several (a fan-in sum)."""
    pred = predecessors(g).get(name, [])
    return pred[0] if len(pred) == 1 else None


def only_succ(g: nir.NIRGraph, name: str) -> str | None:
    """The single successor of ``name``, or None when it has zero or several (a fan-out)."""
    succ = successors(g).get(name, [])
    return succ[0] if len(succ) == 1 else None


def bypass(g: nir.NIRGraph, name: str) -> None:
    """Remove node ``name`` (exactly one predecessor p) and connect p to each of its successors."""
    pred = predecessors(g)[name]
    if len(pred) != 1:
        raise PassError(f"node {name!r} ({node_kind(g.nodes[name])}): cannot bypass a node with "
                        f"{len(pred)} inputs")
    p = pred[0]
    edges = []
    for a, b in g.edges:
        if b == name:
            continue
        edges.append((p, b) if a == name else (a, b))
    if len(set(edges)) != len(edges):
        raise PassError(f"node {name!r}: bypassing it would duplicate an edge (a sum of the same signal twice)")
    g.edges = edges
    del g.nodes[name]


def describe(g: nir.NIRGraph, name: str) -> str:
    """``'name' (Kind)`` for messages."""
    return f"{name!r} ({node_kind(g.nodes[name])})"


def feeding_synapse(g: nir.NIRGraph, name: str, through: tuple[str, ...]) -> str | None:
    """The Conv2d/Affine/Linear whose output reaches ``name`` alone, through a chain of single-input,
    single-output nodes of kinds ``through``; None when there is no such synapse."""
    node, p = name, only_pred(g, name)
    while p is not None and node_kind(g.nodes[p]) in through and only_succ(g, p) == node:
        node, p = p, only_pred(g, p)
    if p is None or node_kind(g.nodes[p]) not in ("Conv2d", "Affine", "Linear") or only_succ(g, p) != node:
        return None
    return p
