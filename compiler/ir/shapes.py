"""Shape inference over standard NIR and snnc extension nodes (replaces NIR 1.0.8's, which
mis-types grouped convolutions and square-only kernels).

Shapes are per-step signal shapes (no batch, no time): ``(C, H, W)`` maps, ``(F,)`` vectors.
Output sizes follow PyTorch (floor division, no ceil mode):

    conv:  out = floor((in + 2 p - d (k - 1) - 1) / s) + 1,   C_out = weight.shape[0]
    pool:  out = floor((in + 2 p - k) / s) + 1,               channels unchanged
    Flatten(start_dim, end_dim) over the per-step shape (NIR has no batch axis: a (C, H, W)
    map needs start_dim = 0 to become a vector).

Several edges into one node are summed, so all their shapes must agree.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, node_kind, predecessors, topological_order
from snnc.errors import VerifyError

Shape = tuple[int, ...]

#: kinds whose output shape equals their input shape.
ELEMENTWISE = (
    nir.LIF, nir.IF, nir.LI, nir.CubaLIF, nir.CubaLI, nir.I, nir.Threshold, nir.Delay, nir.Scale,
    nir.Output, ext.BatchNorm, ext.ASA, ext.MultiDimAttention, ext.TimeGain, ext.LoihiLIF,
)


def pair(v, name: str = "value") -> tuple[int, int]:
    """An int or a length-1/2 sequence as an (a, b) pair of Python ints."""
    a = np.asarray(v).reshape(-1)
    if a.size == 1:
        return int(a[0]), int(a[0])
    if a.size == 2:
        return int(a[0]), int(a[1])
    raise VerifyError(f"{name} must be an int or a pair, got {np.asarray(v).tolist()}")


def conv_output_hw(hw: Shape, kernel: Shape, stride, padding, dilation=1) -> tuple[int, int]:
    """Spatial output size of a 2-D convolution (PyTorch semantics; padding 'same'/'valid' allowed)."""
    if isinstance(padding, str):
        if padding == "same":
            return int(hw[0]), int(hw[1])
        padding = 0
    s, p, d = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    return tuple(  # type: ignore[return-value]
        (int(hw[i]) + 2 * p[i] - d[i] * (int(kernel[i]) - 1) - 1) // s[i] + 1 for i in range(2)
    )


def pool_output_hw(hw: Shape, kernel, stride, padding=0) -> tuple[int, int]:
    """Spatial output size of a 2-D pooling window (PyTorch semantics, ceil_mode False)."""
    k, s, p = pair(kernel, "kernel_size"), pair(stride, "stride"), pair(padding, "padding")
    return tuple((int(hw[i]) + 2 * p[i] - k[i]) // s[i] + 1 for i in range(2))  # type: ignore[return-value]


def flatten_output(shape: Shape, start_dim: int, end_dim: int) -> Shape:
    """NIR Flatten over the per-step shape: dims start_dim..end_dim (inclusive) merged."""
    n = len(shape)
    s = int(start_dim) + n if int(start_dim) < 0 else int(start_dim)
    e = int(end_dim) + n if int(end_dim) < 0 else int(end_dim)
    if not (0 <= s <= e < n):
        raise ValueError(f"Flatten(start_dim={start_dim}, end_dim={end_dim}) does not fit shape {tuple(shape)}")
    return tuple(shape[:s]) + (int(np.prod(shape[s:e + 1])),) + tuple(shape[e + 1:])


def _declared(types: dict | None, key: str) -> Shape | None:
    if not types:
        return None
    v = types.get(key)
    if v is None:
        return None
    a = np.asarray(v).reshape(-1)
    if a.size and (a.dtype.kind not in "biuf" or not np.isfinite(a.astype(np.float64)).all()
                   or (a != np.round(a)).any() or (a < 0).any()):
        raise VerifyError(f"{key} shape {a.tolist()}: dimensions must be whole numbers >= 0")
    return tuple(int(x) for x in a) if a.size else None


def output_shape(name: str, node: nir.NIRNode, shape: Shape) -> Shape:
    """The per-step output shape of ``node`` fed a signal of ``shape`` (VerifyError if it cannot)."""
    kind = node_kind(node)
    try:
        if isinstance(node, ELEMENTWISE) or isinstance(node, nir.Input):
            return tuple(shape)
        if isinstance(node, (nir.Affine, nir.Linear)):
            w = np.asarray(node.weight)
            if w.ndim != 2:
                raise ValueError(f"weight must be 2-D (out, in), got shape {w.shape}")
            if tuple(shape) != (w.shape[1],):
                raise ValueError(f"weight {w.shape} expects input ({w.shape[1]},), got {tuple(shape)}")
            return (int(w.shape[0]),)
        if isinstance(node, nir.Conv2d):
            w = np.asarray(node.weight)
            if w.ndim != 4 or len(shape) != 3:
                raise ValueError(f"weight {w.shape} / input {tuple(shape)} are not a 2-D convolution")
            groups = int(np.asarray(node.groups).reshape(-1)[0])
            if groups < 1 or shape[0] != w.shape[1] * groups:
                raise ValueError(f"input has {shape[0]} channels, weight {w.shape} with groups={groups} "
                                 f"expects {w.shape[1] * groups}")
            oh, ow = conv_output_hw(shape[1:], w.shape[2:], node.stride, node.padding, node.dilation)
            return (int(w.shape[0]), oh, ow)
        if isinstance(node, nir.Conv1d):
            w = np.asarray(node.weight)
            groups = int(np.asarray(node.groups).reshape(-1)[0])
            if w.ndim != 3 or len(shape) != 2 or shape[0] != w.shape[1] * groups:
                raise ValueError(f"weight {w.shape} with groups={groups} does not fit input {tuple(shape)}")
            pad = node.padding if isinstance(node.padding, str) else int(np.asarray(node.padding).reshape(-1)[0])
            s, d = int(np.asarray(node.stride).reshape(-1)[0]), int(np.asarray(node.dilation).reshape(-1)[0])
            out = shape[1] if pad == "same" else (shape[1] + 2 * (0 if pad == "valid" else pad) - d * (w.shape[2] - 1) - 1) // s + 1
            return (int(w.shape[0]), int(out))
        if isinstance(node, (nir.SumPool2d, nir.AvgPool2d, ext.MaxPool2d)):
            if len(shape) != 3:
                raise ValueError(f"2-D pooling needs a (C, H, W) input, got {tuple(shape)}")
            oh, ow = pool_output_hw(shape[1:], node.kernel_size, node.stride, node.padding)
            return (int(shape[0]), oh, ow)
        if isinstance(node, nir.Flatten):
            return flatten_output(tuple(shape), node.start_dim, node.end_dim)
    except VerifyError as e:
        raise VerifyError(f"node {name!r} ({kind}): {e}") from None
    except (ValueError, TypeError, IndexError) as e:
        raise VerifyError(f"node {name!r} ({kind}): {e}") from None
    raise VerifyError(f"node {name!r}: cannot infer the shape of a {kind} node")


def _set_types(node: nir.NIRNode, shape_in: Shape, shape_out: Shape) -> None:
    """Write the inferred shapes into ``node`` (types, Conv2d.input_shape, extension ``shape``)."""
    a_in = np.asarray(shape_in, dtype=np.int64)
    a_out = np.asarray(shape_out, dtype=np.int64)
    if isinstance(node, nir.Conv2d):
        node.input_shape = np.asarray(shape_in[1:], dtype=np.int64)
    elif isinstance(node, nir.Conv1d):
        node.input_shape = int(shape_in[1])
    elif isinstance(node, (ext.BatchNorm, ext.ASA, ext.MultiDimAttention, ext.TimeGain, ext.LoihiLIF, ext.MaxPool2d)):
        node.shape = a_in.copy()
    node.input_type = {"input": a_in}
    node.output_type = {"output": a_out}


def _refuse_unreachable_cycle(g: nir.NIRGraph) -> None:
    """VerifyError for a cycle that no Input reaches: its nodes would have no signal and no shape."""
    from snnc.compiler.ir.graph_utils import back_edges, successors

    succ, seen = successors(g), set()
    stack = [n for n, node in g.nodes.items() if isinstance(node, nir.Input)]
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(m for m in succ.get(n, []) if m in g.nodes)
    if any(a not in seen and b not in seen for a, b in back_edges(g)):
        cycle = sorted(set(g.nodes) - seen)
        raise VerifyError(f"nodes {cycle} form a cycle that no Input reaches (a recurrent loop needs an entry "
                          "edge from the input path)")


def infer_shapes(g: nir.NIRGraph) -> nir.NIRGraph:
    """A copy of ``g`` with every node's ``input_type``/``output_type`` filled in.

    Walks the nodes in :func:`topological_order`; a node's input shape is the (common) output
    shape of its predecessors; recurrent edges are checked once all shapes are known. Raises
    :class:`VerifyError` naming the node on any mismatch.
    """
    g = copy_graph(g)
    _refuse_unreachable_cycle(g)
    pred = predecessors(g)
    out: dict[str, Shape] = {}
    for name in topological_order(g):
        node = g.nodes[name]
        if isinstance(node, nir.NIRGraph):
            raise VerifyError(f"node {name!r} (NIRGraph): nested graphs are not supported; flatten the graph first")
        known = [(p, out[p]) for p in pred.get(name, []) if p in out]
        if isinstance(node, nir.Input):
            shape_in = _declared(node.input_type, "input")
            if shape_in is None:
                raise VerifyError(f"node {name!r} (Input): no input shape")
            if pred.get(name):
                raise VerifyError(f"node {name!r} (Input): has incoming edges from {pred[name]}")
        elif known:
            shapes = {s for _, s in known}
            if len(shapes) > 1:
                detail = ", ".join(f"{p} -> {list(s)}" for p, s in known)
                raise VerifyError(f"node {name!r} ({node_kind(node)}): incoming edges are summed but their shapes "
                                  f"differ ({detail})")
            shape_in = known[0][1]
        else:
            shape_in = _declared(node.input_type, "input")
            if shape_in is None:
                raise VerifyError(f"node {name!r} ({node_kind(node)}): no input shape (not reachable from an Input)")
        shape_out = output_shape(name, node, shape_in)
        if isinstance(node, nir.Output):
            declared = _declared(node.output_type, "output")
            if declared is not None and declared != tuple(shape_in):
                raise VerifyError(f"node {name!r} (Output): declared shape {list(declared)} but receives "
                                  f"{list(shape_in)}")
        _set_types(node, shape_in, shape_out)
        out[name] = tuple(shape_out)
    for a, b in g.edges:
        if a in out and b in out and out[a] != _declared(g.nodes[b].input_type, "input"):
            raise VerifyError(f"edge {a!r} -> {b!r}: {node_kind(g.nodes[a])} output {list(out[a])} does not match "
                              f"{node_kind(g.nodes[b])} input {list(_declared(g.nodes[b].input_type, 'input') or [])}")
    g._update_input_output_types()
    return g


def shape_of(g: nir.NIRGraph, name: str, which: str = "output") -> Shape:
    """The inferred per-step ``input``/``output`` shape of node ``name`` (graph must be inferred)."""
    node = g.nodes[name]
    types = node.output_type if which == "output" else node.input_type
    s = _declared(types, which)
    if s is None:
        raise VerifyError(f"node {name!r}: {which} shape unknown (run infer_shapes first)")
    return s
