"""Small graph helpers: deep copy, neighbours, node kinds, a cycle-tolerant topological order.

A graph is a ``nir.NIRGraph``: ``nodes`` (name -> node) and ``edges`` (src, dst). Several edges
into one node are summed; cycles (recurrent Affine around a CubaLIF) are allowed.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import nir


def node_kind(node: nir.NIRNode) -> str:
    """The node's kind: its class name (``"Conv2d"``, ``"LIF"``, ``"ASA"``, ...)."""
    return type(node).__name__


def copy_graph(g: nir.NIRGraph) -> nir.NIRGraph:
    """A deep copy of ``g`` (nodes, arrays, edges, metadata); never runs NIR's type inference."""
    nodes = {name: copy.deepcopy(node) for name, node in g.nodes.items()}
    edges = [(str(a), str(b)) for a, b in g.edges]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=copy.deepcopy(dict(g.metadata or {})), type_check=False)


def make_graph(nodes: dict, edges: list, metadata: dict | None = None) -> nir.NIRGraph:
    """A ``NIRGraph`` built without NIR 1.0.8's (buggy) type inference."""
    return nir.NIRGraph(nodes=dict(nodes), edges=[(str(a), str(b)) for a, b in edges],
                        metadata=dict(metadata or {}), type_check=False)


def predecessors(g: nir.NIRGraph) -> dict[str, list[str]]:
    """name -> the sources of its incoming edges (in edge order; summed by the consumer)."""
    pred: dict[str, list[str]] = {name: [] for name in g.nodes}
    for a, b in g.edges:
        pred.setdefault(b, []).append(a)
    return pred


def successors(g: nir.NIRGraph) -> dict[str, list[str]]:
    """name -> the destinations of its outgoing edges (in edge order)."""
    succ: dict[str, list[str]] = {name: [] for name in g.nodes}
    for a, b in g.edges:
        succ.setdefault(a, []).append(b)
    return succ


def input_names(g: nir.NIRGraph) -> list[str]:
    """Names of the graph's ``Input`` nodes, sorted."""
    return sorted(n for n, node in g.nodes.items() if isinstance(node, nir.Input))


def output_names(g: nir.NIRGraph) -> list[str]:
    """Names of the graph's ``Output`` nodes, sorted."""
    return sorted(n for n, node in g.nodes.items() if isinstance(node, nir.Output))


def back_edges(g: nir.NIRGraph) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first walk from the inputs (recurrent connections).

    Removing them leaves a DAG. The walk starts from the ``Input`` nodes (then any node not yet
    reached, in name order) and visits successors in edge order, so the result is deterministic.
    """
    succ = successors(g)
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    back: set[tuple[str, str]] = set()
    starts = input_names(g) + sorted(n for n in g.nodes if n not in input_names(g))
    for start in starts:
        if start in state:
            continue
        stack = [(start, iter(succ.get(start, [])))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif nxt not in g.nodes:
                continue
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ.get(nxt, []))))
    return back


def topological_order(g: nir.NIRGraph) -> list[str]:
    """Node names so that every non-recurrent edge goes forward (Kahn's algorithm, ties by name).

    Recurrent edges (see :func:`back_edges`) are ignored for ordering: their source is computed
    after their destination, i.e. they carry the previous step's value.
    """
    back = back_edges(g)
    indeg: dict[str, int] = {n: 0 for n in g.nodes}
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in g.edges:
        if (a, b) in back or a not in g.nodes or b not in g.nodes:
            continue
        indeg[b] += 1
        succ[a].append(b)
    ready = sorted(n for n, d in indeg.items() if d == 0)
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
                ready.sort()
    return order


def reach(g: nir.NIRGraph, start: str, edges: dict[str, list[str]], stops, through) -> list[str]:
    """The nodes met walking ``edges`` (successors or predecessors) breadth first from ``start``'s
    neighbours: a node whose kind satisfies ``stops(kind)`` is collected and not walked past; one
    satisfying ``through(kind)`` is walked past; any other ends that path. Each node is visited once."""
    out, queue, seen = [], list(edges.get(start, [])), set()
    while queue:
        n = queue.pop(0)
        if n in seen:
            continue
        seen.add(n)
        kind = node_kind(g.nodes[n])
        if stops(kind):
            out.append(n)
        elif through(kind):
            queue.extend(edges.get(n, []))
    return out

