"""Run a graph up to a node: the summed input signal of ``name`` over a batch, by the reference simulator.

The probe graph is the ancestors of ``name`` (all nodes with a path to it), with a fresh ``Output``
fed by ``name``'s predecessors (several edges: summed, as in the full graph). It runs on the
interpreter the caller hands in (``run``; the reference one is ``snnc.backends.cpu.run``: float, snnc
timing), so the probed currents are exactly what ``name``
receives in the full graph.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import copy_graph, predecessors
from snnc.compiler.ir.shapes import infer_shapes, shape_of

PROBE = "__probe_output"


def ancestors(g: nir.NIRGraph, name: str) -> set[str]:
    """Every node with a path to ``name`` (``name`` excluded unless it is on a cycle)."""
    pred = predecessors(g)
    seen: set[str] = set()
    stack = list(pred.get(name, []))
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(pred.get(n, []))
    return seen


def probe_graph(g: nir.NIRGraph, name: str) -> nir.NIRGraph:
    """The sub-graph computing ``name``'s (summed) input, ending in an ``Output`` called PROBE."""
    typed = infer_shapes(g)
    keep = ancestors(g, name) - {name}
    sub = copy_graph(g)
    sub.nodes = {n: node for n, node in sub.nodes.items() if n in keep and not isinstance(node, nir.Output)}
    sub.edges = [(a, b) for a, b in sub.edges if a in sub.nodes and b in sub.nodes]
    shape = np.asarray(shape_of(typed, name, "input"), dtype=np.int64)
    sub.nodes[PROBE] = nir.Output(output_type=shape)
    sub.edges += [(p, PROBE) for p in predecessors(g)[name]]
    return sub


def probe_batches(g: nir.NIRGraph, name: str, x: np.ndarray, *, run: Callable[..., Any], batch_size: int = 16,
                  progress=None) -> Iterator[np.ndarray]:
    """The input signal of node ``name``, batch by batch: [n, T, *shape] float32 for frames x[i:i + n]
    (streamed, so a paper-size layer never holds all N samples' currents at once); ``run(graph, x,
    timing=...)`` is the interpreter (its result has ``.output``)."""
    sub = probe_graph(g, name)
    for i in range(0, len(x), batch_size):
        yield np.asarray(run(sub, x[i:i + batch_size], timing="snnc").output, dtype=np.float32)
        if progress is not None:
            progress(min(i + batch_size, len(x)))
