"""``export_onnx(graph, path)``: the compiled network as an ONNX model of ONE timestep.

Graph inputs: ``x`` [N, *in_shape] float32 (the frame of step t), ``t`` int64 scalar (the step
index, used by TimeGain's gain table), and one state tensor per neuron state (``v__<node>``,
and ``u__<node>`` for LoihiLIF) and, under lava timing, per delaying node (``buf__<node>``, its
input one step ago; ``i__<node>`` for CubaLIF's synaptic current). Graph outputs: ``y`` (the graph output at step t), ``spikes__<node>`` per
spiking node (float32 0/1), ``voltage__<node>`` (membrane after reset; float32, float64 in fixed point) and ``<state>__next``
for every state. All states start at zero. The model's ``metadata_props`` hold ``snnc`` (JSON):
timing, numerics, T, the state list and the spiking nodes, so any ONNX runtime can drive the loop.

Float graphs run in float32 (docs/design.md §3.3). Fixed-point graphs (``numerics == "fixed"``:
LoihiLIF, integer weights, fixed TimeGain) run in float64 on integer values, which is exact while
every intermediate stays below 2^53, except convolutions, which run in float32 (ONNX Runtime has no float64
Conv) after a static proof that their integer sums stay within 2^24 (:mod:`snnc.backends.onnx.exactness`).
Recurrent edges (e.g. a recurrent Affine around a CubaLIF) carry their source's value of the previous
step as one more state ``rec__<node>``. ASA (needs the whole window) is refused with a one-line error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import nir

from snnc.backends.onnx import lower_float as lf
from snnc.backends.onnx.builder import IR_VERSION, OPSET, OnnxBuilder, safe
from snnc.backends.onnx.exactness import check_fixed_convs_exact
from snnc.backends.onnx.neurons import F32, F64, State, lif, loihi_lif
from snnc.compiler.fixed_point import time_gain_divisor
from snnc.compiler.ir.graph_utils import back_edges, input_names, node_kind, output_names, predecessors, \
    topological_order
from snnc.compiler.ir.kinds import DELAYING_KINDS, FLOAT_NEURON_KINDS
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.ir.verify import timegain_depth
from snnc.errors import SnncError

TIMINGS = ("snnc", "lava")


@dataclass
class StepModel:
    """An exported step model: the ``onnx.ModelProto`` and how to drive it."""

    model: object
    states: list[State] = field(default_factory=list)
    spiking: list[str] = field(default_factory=list)
    out_shape: tuple[int, ...] = ()
    in_shape: tuple[int, ...] = ()
    timing: str = "snnc"
    numerics: str = "float"
    T: int | None = None

    def describe(self) -> dict:
        return {"timing": self.timing, "numerics": self.numerics, "T": self.T, "input_shape": list(self.in_shape),
                "output_shape": list(self.out_shape), "spiking": self.spiking,
                "states": [{"name": s.name, "shape": list(s.shape), "dtype": np.dtype(s.dtype).name, "kind": s.kind,
                            "node": s.node} for s in self.states]}


def _refuse_unsupported(g: nir.NIRGraph, fixed: bool) -> None:
    float_ok = ("Input", "Output", "Affine", "Linear", "Conv2d", "Flatten", "SumPool2d", "AvgPool2d", "MaxPool2d",
                "Scale", "BatchNorm", "TimeGain", "LIF", "IF", "CubaLIF", "LI")
    fixed_ok = ("Input", "Output", "Affine", "Linear", "Conv2d", "Flatten", "SumPool2d", "MaxPool2d", "TimeGain",
                "LoihiLIF")
    ok = fixed_ok if fixed else float_ok
    for name, node in g.nodes.items():
        kind = node_kind(node)
        if kind in ("ASA", "MultiDimAttention"):
            raise lf.refuse(name, kind, "needs the whole window of T steps (not causal); compile with "
                                        "--asa-mode fused (fuse_asa_gains) to get a per-step TimeGain")
        if kind not in ok:
            raise lf.refuse(name, kind, f"is not supported for {'fixed-point' if fixed else 'float'} graphs; "
                                        f"supported: {', '.join(ok)}")


def _sum(b: OnnxBuilder, values: list[str], hint: str) -> str:
    """Left fold in edge order (the summation order of the CPU simulator)."""
    acc = values[0]
    for v in values[1:]:
        acc = b.op("Add", [acc, v], hint=hint)
    return acc


def build_step_model(graph: nir.NIRGraph, *, timing: str = "snnc") -> StepModel:
    """Lower ``graph`` to a one-step ONNX model (see the module docstring)."""
    from onnx import TensorProto, helper

    if timing not in TIMINGS:
        raise SnncError(f"timing: must be one of {', '.join(TIMINGS)}, got {timing!r}")
    meta = (graph.metadata or {}).get("snnc") or {}
    fixed = meta.get("numerics") == "fixed" or any(node_kind(n) == "LoihiLIF" for n in graph.nodes.values())
    _refuse_unsupported(graph, fixed)
    g = infer_shapes(graph)
    if fixed:
        check_fixed_convs_exact(g)
    dtype = F64 if fixed else F32
    onnx_dtype = TensorProto.DOUBLE if fixed else TensorProto.FLOAT
    rule = meta.get("threshold", ">")
    reset = meta.get("reset", "zero")
    dt = float(meta.get("dt", 1e-3))
    b = OnnxBuilder()
    pred = predecessors(g)
    back = back_edges(g)
    recurrent: dict[str, State] = {}
    for a, _ in sorted(back):  # a recurrent edge carries its source's value of the previous step
        if a not in recurrent:
            recurrent[a] = State(f"rec__{safe(a)}", shape_of(g, a, "output"), dtype, "recurrent", a)
    (inp,), (outp,) = input_names(g), output_names(g)
    in_shape, out_shape = shape_of(g, inp, "output"), shape_of(g, outp, "input")
    x_in = b.op("Cast", ["x"], hint="x_cast", to=onnx_dtype) if fixed else "x"
    values: dict[str, str] = {inp: x_in}
    states: list[State] = []
    spiking: list[str] = []
    outputs: list[tuple[str, str, tuple]] = []  # (value name, graph output name, shape)
    for name in topological_order(g):
        node = g.nodes[name]
        kind = node_kind(node)
        if kind == "Input":
            continue
        x = _sum(b, [recurrent[p].name if (p, name) in back else values[p] for p in pred[name]], f"{name}_in")
        if timing == "lava" and kind in DELAYING_KINDS:
            st = State(f"buf__{safe(name)}", shape_of(g, name, "input"), dtype, "buffer", name)
            states.append(st)
            b.identity(x, st.next)
            x = st.name
        if kind == "Output":
            values[name] = x
            continue
        values[name] = _lower(b, name, node, x, g, timing, fixed, states, spiking, outputs, rule, reset, dt)
    for a, st in recurrent.items():
        states.append(st)
        b.identity(values[a], st.next)
    y = values[outp]
    if fixed:
        y = b.op("Cast", [y], to=TensorProto.FLOAT)
    b.identity(y, "y")

    def vi(name: str, shape: tuple, elem=TensorProto.FLOAT):
        return helper.make_tensor_value_info(name, elem, ["N", *shape])

    st_elem = lambda s: TensorProto.DOUBLE if s.dtype == F64 else TensorProto.FLOAT  # noqa: E731
    g_inputs = [vi("x", in_shape), helper.make_tensor_value_info("t", TensorProto.INT64, [])]
    g_inputs += [vi(s.name, s.shape, st_elem(s)) for s in states]
    v_elem = TensorProto.DOUBLE if fixed else TensorProto.FLOAT
    g_outputs = [vi("y", out_shape)] + [vi(o, shp, v_elem if o.startswith("voltage__") else TensorProto.FLOAT)
                                        for _, o, shp in outputs]
    g_outputs += [vi(s.next, s.shape, st_elem(s)) for s in states]
    for value, out, _ in outputs:
        b.identity(value, out)
    onnx_graph = helper.make_graph(b.nodes, "snnc_step", g_inputs, g_outputs, initializer=b.initializers)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="snnc")
    model.ir_version = IR_VERSION
    step = StepModel(model, states, spiking, tuple(out_shape), tuple(in_shape), timing,
                     "fixed" if fixed else "float", int(meta["T"]) if "T" in meta else None)
    helper.set_model_props(model, {"snnc": json.dumps(step.describe())})
    return step


def _step_index(b: OnnxBuilder, g: nir.NIRGraph, name: str, timing: str) -> str:
    """s(t) of docs/design.md §3.4: t (snnc) or max(0, t − d) (lava)."""
    if timing == "snnc":
        return "t"
    d = timegain_depth(g, name)
    return b.op("Max", [b.op("Sub", ["t", b.const(d, np.int64)]), b.const(0, np.int64)], hint=f"{name}_step")


def _lower(b, name, node, x, g, timing, fixed, states, spiking, outputs, rule, reset, dt) -> str:
    kind = node_kind(node)
    shape = shape_of(g, name, "input")
    if kind == "Affine":
        return lf.affine(b, name, node, x) if not fixed else _fixed_affine(b, name, node, x)
    if kind == "Linear":
        return lf.linear(b, name, node, x) if not fixed else _fixed_affine(b, name, node, x)
    if kind == "Conv2d":
        return lf.conv2d(b, name, node, x) if not fixed else _fixed_conv(b, name, node, x)
    if kind == "SumPool2d":
        return _as(b, lf.sumpool(b, name, node, _as(b, x, F32, fixed), shape[0]), F64, fixed)
    if kind == "AvgPool2d":
        return lf.avgpool(b, name, node, x)
    if kind == "MaxPool2d":
        return lf.maxpool(b, name, node, x)
    if kind == "Flatten":
        return lf.flatten(b, name, shape_of(g, name, "output"), x)
    if kind == "Scale":
        return lf.scale(b, name, node, x)
    if kind == "BatchNorm":
        return lf.batchnorm(b, name, node, x, len(shape) + 1)
    if kind == "TimeGain":
        step = _step_index(b, g, name, timing)
        if node.rectify:  # y = g · max(x, 0)
            x = b.op("Relu", [x])
        if fixed:
            return _fixed_timegain(b, name, node, x, step)
        return lf.timegain(b, name, node, x, step)
    if kind in FLOAT_NEURON_KINDS:
        st = State(f"v__{safe(name)}", shape, F32, "v", name)
        syn = State(f"i__{safe(name)}", shape, F32, "i", name) if kind == "CubaLIF" else None
        states += [st] + ([syn] if syn else [])
        out = lif(b, name, node, x, st, rule, reset, dt, syn)
        if out.spikes is None:  # LI: no spikes, passes its membrane on
            return out.voltage
    elif kind == "LoihiLIF":
        u = State(f"u__{safe(name)}", shape, F64, "u", name)
        v = State(f"v__{safe(name)}", shape, F64, "v", name)
        states += [u, v]
        out = loihi_lif(b, name, node, x, u, v)
    else:  # pragma: no cover - _refuse_unsupported ran first
        raise lf.refuse(name, kind, "is not supported")
    spiking.append(name)
    outputs.append((out.spikes, f"spikes__{safe(name)}", shape))
    outputs.append((out.voltage, f"voltage__{safe(name)}", shape))
    return _as(b, out.spikes, F64, fixed)


def _as(b: OnnxBuilder, x: str, dtype, fixed: bool) -> str:
    """Cast ``x`` to ``dtype`` in fixed-point graphs (float graphs are float32 throughout)."""
    if not fixed:
        return x
    return b.op("Cast", [x], to=11 if dtype == F64 else 1)


def _fixed_affine(b: OnnxBuilder, name: str, node, x: str) -> str:
    """Integer weights (exact in float64): a = x Wᵀ (+ b)."""
    w = np.asarray(node.weight, F64)
    bias = np.asarray(getattr(node, "bias", np.zeros(w.shape[0])), F64)
    return b.op("Gemm", [x, b.const(w, F64, f"{name}_w"), b.const(bias, F64, f"{name}_b")], hint=name, transB=1)


def _fixed_conv(b: OnnxBuilder, name: str, node, x: str) -> str:
    """Integer conv in float32 (ONNX Runtime has no float64 Conv): exact while every partial sum is an
    integer of magnitude ≤ 2^24, proved statically by :func:`check_fixed_convs_exact` (frames ≤ 255 are
    checked by the runner)."""
    y = b.op("Cast", [lf.conv2d(b, name, node, b.op("Cast", [x], to=1))], to=11)
    # Lava's PyConvModelFixed wraps into signed 24 bits (fixed_point.conv_output_clamp):
    # y − 2^24·floor((y + 2^23) / 2^24), exact in float64 (|y| ≤ 2^24 by the exactness proof, so the
    # preceding int32 cast of Lava is the identity)
    q = b.op("Floor", [b.op("Div", [b.op("Add", [y, b.const(2.0**23, F64)]), b.const(2.0**24, F64)])])
    return b.op("Sub", [y, b.op("Mul", [q, b.const(2.0**24, F64)])], hint=name)


def _fixed_timegain(b: OnnxBuilder, name: str, node, x: str, step: str) -> str:
    """y = floor(x · gain_mant[s(t)] / 2^gain_shift) (arithmetic shift), exact in float64: the ops of
    :func:`snnc.compiler.fixed_point.time_gain_apply` with its divisor (it scales m first, x·(m / 2^k): the
    same value, see its docstring)."""
    if not np.asarray(node.gain_mant).size:
        raise SnncError(f"onnx target: TimeGain {name!r} in a fixed-point graph has no gain_mant (not quantized)")
    g = b.op("Gather", [b.const(np.asarray(node.gain_mant, F64), F64, f"{name}_mant"), step], axis=0)
    y = b.op("Mul", [x, g])
    return b.op("Floor", [b.op("Div", [y, b.const(time_gain_divisor(node.gain_shift), F64)])], hint=name)


def export_onnx(graph: nir.NIRGraph, path: str | os.PathLike, *, timing: str = "snnc") -> StepModel:
    """Write the one-step ONNX model of ``graph`` to ``path`` (atomically); returns the :class:`StepModel`."""
    import onnx

    from snnc.io import atomic_path

    step = build_step_model(graph, timing=timing)
    onnx.checker.check_model(step.model)
    with atomic_path(path) as tmp:
        onnx.save(step.model, str(tmp))
    return step
