"""IR invariants: structure, shapes, parameter shapes, LIF metadata, TimeGain depth.

``verify(g)`` returns None or raises :class:`VerifyError` naming the offending node;
``check_supported(g)`` raises :class:`UnsupportedNodeError` for kinds nobody executes
(docs/design.md §3).
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.kinds import DELAYING_KINDS  # noqa: F401 (re-exported)
from snnc.compiler.ir.graph_utils import back_edges, input_names, node_kind, output_names, predecessors, successors
from snnc.compiler.ir.shapes import infer_shapes, pair, shape_of
from snnc.errors import UnsupportedNodeError, VerifyError

#: node kinds some backend executes (docs/design.md §3).
SUPPORTED_KINDS: tuple[str, ...] = (
    "Input", "Output", "Affine", "Linear", "Conv2d", "Flatten", "SumPool2d", "AvgPool2d", "Scale",
    "LIF", "IF", "CubaLIF", "LI", "BatchNorm", "ASA", "MultiDimAttention", "TimeGain", "MaxPool2d", "LoihiLIF",
)

#: neuron kinds and their per-neuron parameter fields.
NEURON_FIELDS: dict[str, tuple[str, ...]] = {
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "IF": ("r", "v_threshold", "v_reset"),
    "LI": ("tau", "r", "v_leak"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "Scale": ("scale",),
}

LIF_METADATA_TOL = 1e-6


def check_supported(g: nir.NIRGraph, where: str = "graph") -> None:
    """Raise :class:`UnsupportedNodeError` for the first node whose kind nobody executes."""
    for name, node in g.nodes.items():
        kind = node_kind(node)
        if kind not in SUPPORTED_KINDS:
            raise UnsupportedNodeError(f"{where}: node {name!r} has unsupported type {kind}; "
                                       f"supported: {', '.join(SUPPORTED_KINDS)}")


def _fail(name: str, node: nir.NIRNode, problem: str) -> None:
    raise VerifyError(f"node {name!r} ({node_kind(node)}): {problem}")


def _shape(a) -> tuple[int, ...]:
    return tuple(np.asarray(a).shape)


def _check_structure(g: nir.NIRGraph, single_io: bool) -> None:
    seen = set()
    for a, b in g.edges:
        for end in (a, b):
            if end not in g.nodes:
                raise VerifyError(f"edge {a!r} -> {b!r}: node {end!r} does not exist")
        if (a, b) in seen:
            raise VerifyError(f"edge {a!r} -> {b!r} appears twice")
        seen.add((a, b))
    ins, outs = input_names(g), output_names(g)
    if not ins or not outs or (single_io and (len(ins) != 1 or len(outs) != 1)):
        raise VerifyError(f"graph needs exactly one Input and one Output node, has inputs {ins} and outputs {outs}")
    pred = predecessors(g)
    succ_count = {n: 0 for n in g.nodes}
    for a, _ in g.edges:
        succ_count[a] += 1
    for name, node in g.nodes.items():
        if isinstance(node, nir.Input) and pred[name]:
            _fail(name, node, f"an Input must have no incoming edges, has {pred[name]}")
        if not isinstance(node, nir.Input) and not pred[name]:
            _fail(name, node, "has no incoming edge")
        if isinstance(node, nir.Output) and succ_count[name]:
            _fail(name, node, "an Output must have no outgoing edges")


_NOT_PARAMS = ("input_type", "output_type", "metadata")


def _check_values(name: str, node: nir.NIRNode) -> None:
    """Every array/number field is numeric and finite; so are the LIF metadata beta/gain and scales."""
    import dataclasses

    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        if f.name in _NOT_PARAMS:
            continue
        v = getattr(node, f.name, None)
        if isinstance(v, (str, type(None), nir.NIRNode)):
            continue
        try:
            a = np.asarray(v)
        except Exception:  # noqa: BLE001 - an unconvertible object is not a parameter
            _fail(name, node, f"parameter {f.name} is not numeric ({type(v).__name__})")
        if a.dtype.kind not in "biuf":
            _fail(name, node, f"parameter {f.name} has non-numeric dtype {a.dtype}")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            _fail(name, node, f"parameter {f.name} contains NaN or infinite values")
    meta = (getattr(node, "metadata", None) or {}).get("snnc") or {}
    if isinstance(meta, dict):
        for key in ("beta", "gain", "scale", "v_th"):
            if key in meta:
                try:
                    ok = bool(np.all(np.isfinite(np.asarray(meta[key], dtype=np.float64))))
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    _fail(name, node, f"metadata['snnc'][{key!r}] is not a finite number")


def _check_neuron(name: str, node: nir.NIRNode, shape: tuple[int, ...]) -> None:
    for field in NEURON_FIELDS[node_kind(node)]:
        if _shape(getattr(node, field)) != shape:
            _fail(name, node, f"parameter {field} has shape {list(_shape(getattr(node, field)))}, "
                              f"the population has shape {list(shape)}")
    for field in ("tau", "tau_syn", "tau_mem"):
        if hasattr(node, field) and not np.all(np.asarray(getattr(node, field)) > 0):
            _fail(name, node, f"{field} must be > 0")


def _check_lif_metadata(name: str, node: nir.LIF, dt: float) -> None:
    meta = (node.metadata or {}).get("snnc") or {}
    if "beta" not in meta and "gain" not in meta:
        return
    if "beta" not in meta or "gain" not in meta:
        _fail(name, node, "metadata['snnc'] needs both 'beta' and 'gain'")
    tau, r = np.asarray(node.tau, dtype=np.float64), np.asarray(node.r, dtype=np.float64)
    a = dt / tau
    beta, gain = np.float64(meta["beta"]), np.float64(meta["gain"])
    if np.max(np.abs((1.0 - a) - beta)) > LIF_METADATA_TOL or np.max(np.abs(a * r - gain)) > LIF_METADATA_TOL:
        _fail(name, node, f"metadata beta={float(beta)!r}, gain={float(gain)!r} disagree with tau, r at dt={dt} "
                          f"(beta = 1 - dt/tau = {float(np.mean(1 - a))!r}, gain = dt/tau*r = {float(np.mean(a * r))!r})")


def _check_params(name: str, node: nir.NIRNode, g: nir.NIRGraph) -> None:
    kind = node_kind(node)
    shape_in, shape_out = shape_of(g, name, "input"), shape_of(g, name, "output")
    meta = (g.metadata or {}).get("snnc") or {}
    if kind in NEURON_FIELDS:
        _check_neuron(name, node, shape_in)
        if kind == "LIF":
            _check_lif_metadata(name, node, float(meta.get("dt", 1e-3)))
    elif kind == "Affine":
        if _shape(node.bias) != (np.asarray(node.weight).shape[0],):
            _fail(name, node, f"bias shape {list(_shape(node.bias))} != (out,) = [{np.asarray(node.weight).shape[0]}]")
    elif kind == "Conv2d":
        w = np.asarray(node.weight)
        groups = int(np.asarray(node.groups).reshape(-1)[0])
        if w.shape[0] % groups:
            _fail(name, node, f"{w.shape[0]} output channels not divisible by groups={groups}")
        if _shape(node.bias) not in ((w.shape[0],),):
            _fail(name, node, f"bias shape {list(_shape(node.bias))} != (C_out,) = [{w.shape[0]}]")
        if min(pair(node.stride)) < 1 or min(pair(node.dilation)) < 1:
            _fail(name, node, "stride and dilation must be >= 1")
        if not isinstance(node.padding, str) and min(pair(node.padding)) < 0:
            _fail(name, node, "padding must be >= 0")
    elif kind in ("SumPool2d", "AvgPool2d", "MaxPool2d"):
        k, s, p = pair(node.kernel_size), pair(node.stride), pair(node.padding)
        if min(k) < 1 or min(s) < 1 or min(p) < 0 or p[0] * 2 > k[0] or p[1] * 2 > k[1]:
            _fail(name, node, f"invalid pooling kernel {list(k)}, stride {list(s)}, padding {list(p)}")
    if min(shape_out, default=1) < 1:
        _fail(name, node, f"output shape {list(shape_out)} is empty")
    if kind == "BatchNorm":
        c = _shape(node.running_mean)
        if c != (shape_in[0],):
            _fail(name, node, f"{c} statistics for a signal with {shape_in[0]} channels")
        if np.any(np.asarray(node.running_var) < 0) or not float(node.eps) > 0:
            _fail(name, node, "running_var must be >= 0 and eps > 0")
    elif kind == "ASA":
        _check_asa(name, node, shape_in, meta)
    elif kind == "MultiDimAttention":
        _check_multidim(name, node, shape_in, meta)
    elif kind == "TimeGain":
        gain = np.asarray(node.gain)
        if gain.ndim != 1 + len(shape_in) or any(a not in (1, b) for a, b in zip(gain.shape[1:], shape_in)):
            _fail(name, node, f"gain shape {list(gain.shape)} does not broadcast as (T, *{list(shape_in)})")
        if "T" in meta and gain.shape[0] != int(meta["T"]):
            _fail(name, node, f"gain has {gain.shape[0]} steps, graph T = {meta['T']}")
    elif kind == "LoihiLIF":
        for field in ("bias_mant", "bias_exp"):
            if _shape(getattr(node, field)) not in (shape_in, (1,), ()):
                _fail(name, node, f"{field} shape {list(_shape(getattr(node, field)))} != population {list(shape_in)}")


def _check_asa(name: str, node: ext.ASA, shape: tuple[int, ...], meta: dict) -> None:
    if len(shape) != 3:
        _fail(name, node, f"ASA needs a (C, H, W) signal, got {list(shape)}")
    t, r = int(node.T), int(node.reduction)
    if "T" in meta and t != int(meta["T"]):
        _fail(name, node, f"T = {t} but the graph's T = {meta['T']}")
    fc1, fc2 = np.asarray(node.fc1), np.asarray(node.fc2)
    want1 = (t, t) if r == 1 else (t // r, t)
    if node.excitation == "mlp" and (fc1.shape != want1 or (r == 1 and fc2.size) or (r > 1 and fc2.shape != (t, t // r))):
        _fail(name, node, f"fc shapes {list(fc1.shape)}, {list(fc2.shape)} do not match T={t}, reduction={r}")
    if node.k_c != int(shape[0] * node.lam) or node.k_t != int(t * node.lam):
        _fail(name, node, f"k_c={node.k_c}, k_t={node.k_t} != int(C*lam), int(T*lam) for C={shape[0]}, "
                          f"T={t}, lam={node.lam}")


def _check_multidim(name: str, node: ext.MultiDimAttention, shape: tuple[int, ...], meta: dict) -> None:
    if len(shape) != 3:
        _fail(name, node, f"attention needs a (C, H, W) signal, got {list(shape)}")
    if "T" in meta and int(node.T) != int(meta["T"]):
        _fail(name, node, f"T = {node.T} but the graph's T = {meta['T']}")
    if "c" in node.dims and np.asarray(node.channel_fc1).shape[1] != shape[0]:
        _fail(name, node, f"channel MLP is for {np.asarray(node.channel_fc1).shape[1]} channels, signal has {shape[0]}")


def delay_depths(g: nir.NIRGraph) -> dict[str, set[int]]:
    """name -> the numbers of delaying nodes (Affine, Linear, Conv2d, SumPool2d, AvgPool2d) on the
    feed-forward paths from the Input up to and including the node itself. Recurrent edges are not
    followed; a node on a cycle gets every depth reachable without them."""
    from snnc.compiler.ir.graph_utils import topological_order

    back = back_edges(g)
    pred = predecessors(g)
    depths: dict[str, set[int]] = {}
    for name in topological_order(g):
        node = g.nodes[name]
        own = 1 if node_kind(node) in DELAYING_KINDS else 0
        incoming = [p for p in pred.get(name, []) if (p, name) not in back and p in depths]
        base = set().union(*(depths[p] for p in incoming)) if incoming else {0}
        depths[name] = {d + own for d in base}
    return depths


def check_timegain_not_recurrent(g: nir.NIRGraph, name: str) -> None:
    """A TimeGain on a cycle has no source step under any timing: VerifyError."""
    node = g.nodes[name]
    succ = successors(g)
    stack, seen = list(succ.get(name, [])), set()
    while stack:  # is ``name`` reachable from its own successors (on a cycle)?
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(succ.get(n, []))
    if name in seen:
        _fail(name, node, "a TimeGain on a recurrent path has no well-defined source step")


def timegain_depth(g: nir.NIRGraph, name: str) -> int:
    """d of docs/design.md §3.4 for TimeGain ``name`` (needed under Lava timing only); VerifyError
    when it is recurrent or when paths from the input cross different numbers of delaying nodes
    (e.g. a residual sum of a conv path and an identity shortcut)."""
    node = g.nodes[name]
    check_timegain_not_recurrent(g, name)
    d = delay_depths(g)[name]
    if len(d) != 1:
        _fail(name, node, f"ambiguous delay depth: paths from the input cross {sorted(d)} delaying nodes")
    return next(iter(d))


def verify(g: nir.NIRGraph, *, single_io: bool = True, where: str = "graph") -> None:
    """Check every IR invariant of docs/design.md §3; raise :class:`VerifyError` naming the node.

    Structure (edges name existing nodes, one Input and one Output), supported kinds, numeric and
    finite parameters (no NaN/inf; metadata dt > 0, T >= 1), shapes
    along every edge (summed fan-in must agree), parameter shapes (conv weight vs groups, affine
    in/out, neuron parameters equal to the population shape, BatchNorm/ASA/TimeGain sizes), LIF
    ``metadata['snnc']`` beta/gain consistent with tau, r and dt to 1e-6, no TimeGain on a cycle. (A TimeGain's delay depth
    must also be unique, but only under Lava timing: :func:`timegain_depth` checks it there.)
    """
    _check_structure(g, single_io)
    check_supported(g, where)
    for name, node in g.nodes.items():
        _check_values(name, node)
    meta = (g.metadata or {}).get("snnc") or {}
    if "dt" in meta:
        try:
            dt_ok = float(meta["dt"]) > 0 and np.isfinite(float(meta["dt"]))
        except (TypeError, ValueError):
            dt_ok = False
        if not dt_ok:
            raise VerifyError(f"graph metadata dt={meta['dt']!r} must be a finite number > 0")
    if "T" in meta:
        try:
            t_ok = int(meta["T"]) == meta["T"] and int(meta["T"]) >= 1
        except (TypeError, ValueError, OverflowError):
            t_ok = False
        if not t_ok:
            raise VerifyError(f"graph metadata T={meta['T']!r} must be a positive integer")
    inferred = infer_shapes(g)
    for name, node in inferred.nodes.items():
        _check_params(name, node, inferred)
        if node_kind(node) == "TimeGain":
            check_timegain_not_recurrent(inferred, name)
