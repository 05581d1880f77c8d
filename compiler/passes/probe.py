"""Run a graph up to a node: the summed input signal of ``name`` over a batch, by the reference simulator.

The probe graph is the ancestors of ``name`` (all nodes with a path to it), with a fresh ``Output``
fed by ``name``'s predecessors (several edges: summed, as in the full graph). It runs on the
interpreter the caller hands in (``run``; the reference one is ``snnc.backends.cpu.run``: float, snnc
timing), so the probed currents are exactly what ``name``
receives in the full graph.

A probe can also start from a cut (:func:`cut_probe_graph`): when every path from the input to ``name``
passes through a node ``cut`` whose summed input is already known (a previous probe's output), the
nodes upstream of ``cut`` are replaced by an ``Input`` that feeds those stored values to ``cut``. Under
snnc timing no node delays, and the simulator computes every node from its summed input alone, in the
same batches, so the probed values are the same float32 numbers without recomputing the upstream.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import back_edges, copy_graph, predecessors
from snnc.compiler.ir.shapes import infer_shapes, shape_of

PROBE = "__probe_output"
CACHED = "__cached_input"


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


def cut_probe_graph(g: nir.NIRGraph, name: str, cut: str) -> nir.NIRGraph | None:
    """:func:`probe_graph` of ``name`` with everything upstream of ``cut`` replaced by an ``Input`` called
    CACHED feeding ``cut`` its summed input; None when that is not the same computation (``cut`` not
    upstream of ``name``, a path around ``cut``, or a cycle)."""
    sub = probe_graph(g, name)
    if cut not in sub.nodes or cut == name or back_edges(sub):
        return None
    upstream = ancestors(sub, cut)
    if cut in upstream or any(a in upstream and b not in upstream and b != cut for a, b in sub.edges):
        return None
    shape = np.asarray(shape_of(infer_shapes(g), cut, "input"), dtype=np.int64)
    sub.nodes = {n: node for n, node in sub.nodes.items() if n not in upstream}
    sub.nodes[CACHED] = nir.Input(input_type=shape)
    sub.edges = [(CACHED, cut)] + [(a, b) for a, b in sub.edges if a not in upstream and b not in upstream]
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


def probe_batches_from(g: nir.NIRGraph, name: str, cut: str, cached: list[np.ndarray], x: np.ndarray, *,
                       run: Callable[..., Any], batch_size: int = 16, progress=None) -> Iterator[np.ndarray]:
    """:func:`probe_batches` of ``name`` given ``cached[b]``, the summed input of ``cut`` for the batch
    x[b·batch_size : (b + 1)·batch_size] (the same values, module docstring); each ``cached[b]`` is released
    (set to None) once used. Falls back to :func:`probe_batches` from x when the cut does not apply."""
    sub = cut_probe_graph(g, name, cut)
    if sub is None or len(cached) != -(-len(x) // batch_size):
        yield from probe_batches(g, name, x, run=run, batch_size=batch_size, progress=progress)
        return
    for b, i in enumerate(range(0, len(x), batch_size)):
        currents, cached[b] = cached[b], None
        yield np.asarray(run(sub, currents, timing="snnc").output, dtype=np.float32)
        del currents
        if progress is not None:
            progress(min(i + batch_size, len(x)))


def _channel_extremes(z: "torch.Tensor") -> tuple[np.ndarray, np.ndarray]:
    """(max, min) of z [n, steps, C, ...] per channel (axis 2), float32 [C] each.

    max |z − b_c| over a channel is |fl(max z − b_c)| or |fl(min z − b_c)|: rounding is monotonic, so fl(z − b)
    takes its extremes at the extremes of z. The maxima of :func:`probe_max_abs` are therefore the very
    values of the element-wise ``np.max(np.abs(z − b))``, from two reductions and no [n, steps, ...] temporary."""
    dims = (0, 1) + tuple(range(3, z.dim()))
    hi, lo = z.amax(dim=dims), z.amin(dim=dims)
    return hi.numpy(), lo.numpy()


def probe_max_abs(g: nir.NIRGraph, requests: dict[Any, tuple[str, np.ndarray | None]], x: np.ndarray, *,
                  run: Callable[..., Any], batch_size: int = 16) -> dict[Any, float]:
    """key -> max over x of |input of node ``name`` − bias| for ``requests[key] = (name, bias)`` (bias: per
    channel [C], or None), from ONE run of the whole graph per batch when the interpreter takes ``probes=``
    (the reference one does), else from :func:`probe_batches` per node. The same float32 values either way
    (the sub-graph runs the same nodes in the same order), so the same maxima."""
    import torch  # lazily: ``import snnc`` stays torch-free

    top = {key: 0.0 for key in requests}
    by_node: dict[str, list] = {}
    for key, (name, bias) in requests.items():
        by_node.setdefault(name, []).append((key, bias))

    def reduce(name: str, z) -> None:
        hi, lo = _channel_extremes(z)
        for key, bias in by_node[name]:
            if bias is not None and np.ndim(bias):
                b = np.reshape(bias, -1)
                hi_d, lo_d = hi - b, lo - b  # in the dtype NumPy gives z − bias (see _channel_extremes)
            else:
                hi_d, lo_d = hi, lo
            top[key] = max(top[key], float(max(np.max(np.abs(hi_d)), np.max(np.abs(lo_d)))))

    seen: set[str] = set()

    def tap(name: str):
        def take(z) -> None:
            seen.add(name)
            reduce(name, torch.as_tensor(z, dtype=torch.float32))
        return take

    try:
        for i in range(0, len(x), batch_size):
            run(g, x[i:i + batch_size], timing="snnc", probes={name: tap(name) for name in by_node})
    except TypeError:  # an interpreter without probes
        seen = set()
    for name in by_node:
        if name not in seen:
            for key, _ in by_node[name]:
                top[key] = 0.0
            for z in probe_batches(g, name, x, run=run, batch_size=batch_size):
                reduce(name, torch.from_numpy(z))
    return top
