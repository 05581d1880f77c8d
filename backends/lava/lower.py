r"""snnc IR graph -> a Lava network *spec*: plain dicts of NumPy arrays in Lava layouts (no Lava, no torch).

The spec is what :mod:`.emit` builds processes from and what the Lava artifact stores. Layers, in
topological order:

- ``conv``  — ``Conv2d`` (PyTorch → Lava: kernel flipped and transposed to (C_out, kW, kH, C_in),
  (H, W) pairs reversed), ``SumPool2d`` (depthwise conv of ones), ``AvgPool2d`` (float only:
  depthwise conv of 1/k²). Lava stores ``groups`` as int8, so groups ≥ 128 wrap and the conv
  silently outputs zeros: such convs are regrouped block-diagonally (fewer, wider groups);
- ``dense`` — ``Affine``/``Linear``; a flattened (C, H, W) map arrives in Lava's (W, H, C) order,
  so the weight columns are permuted to that order (the same as ``transpose([2, 1, 0])`` + flatten);
- ``neuron`` — ``LIF``/``IF`` (float: du = 1 (no current memory), dv = 1 − β, input gain g = a·r (β,
  g from ``metadata["snnc"]`` when present), bias = g·b + a·v_leak) or ``LoihiLIF`` (fixed: its
  integer fields); a preceding ``TimeGain`` becomes the neuron's per-step input gain (the step
  ``attach_time_gains``).

Synapse biases move into the neuron they feed (the step ``move_biases_into_neurons``; on Lava they are not
delayed, design.md §3.4). Both steps are named functions of :mod:`.lowering_steps`, run after the walk.
``Flatten`` is a re-indexing only. Every synapse whose input is not a single binary spike train
(graph input, a sum of several sources, or another synapse's graded output) gets
``num_message_bits = 24`` (graded messages); otherwise Lava treats inputs as booleans.

Refused before anything is built (``UnsupportedNodeError`` naming node and type): ASA, BatchNorm,
MaxPool2d, CubaLIF, LI, Scale, nested graphs, recurrent edges, subtractive reset in fixed point (float runs it:
spec ``reset``), v_reset ≠ 0,
an output that is not a spiking layer, and in fixed point: non-integer weights, AvgPool2d, and
weights Lava would change (outside 8 bits, or odd mantissas in a mixed-sign Dense, whose LSB Lava
drops) unless ``clip_weights`` (then exactly Lava's clipped/truncated weights, with a warning and count).
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.backends.lava.layout import conv_output_chw, lava_conv_params, neuron_array_to_lava, pair
from snnc.backends.lava.lowering_steps import LOWERING_STEPS
from snnc.backends.lava.weights import check_fixed_weights, regroup
from snnc.compiler.ir.graph_utils import back_edges, node_kind, predecessors, topological_order
from snnc.compiler.ir.pooling import pool_as_depthwise
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.ir.verify import timegain_depth
from snnc.compiler.neuron_params import neuron_params
from snnc.errors import SnncError, UnsupportedNodeError

SYNAPSES = ("Conv2d", "Affine", "Linear", "SumPool2d", "AvgPool2d")
NEURONS = ("LIF", "IF", "LoihiLIF")
PASS_THROUGH = ("Flatten", "TimeGain")
HOSTED = SYNAPSES + NEURONS + PASS_THROUGH + ("Input", "Output")
GRADED_BITS = 24


def refuse_unhosted(graph: nir.NIRGraph) -> None:
    """UnsupportedNodeError for the first node Lava cannot host (before building anything)."""
    for name, node in graph.nodes.items():
        kind = node_kind(node)
        if kind not in HOSTED:
            hint = {"BatchNorm": " (run fold_batchnorm)", "ASA": " (run fuse_asa_gains)",
                    "MultiDimAttention": " (run fuse_asa_gains)",
                    "MaxPool2d": " (Lava has no max pooling)"}.get(kind, "")
            raise UnsupportedNodeError(f"lava: node {name!r} has type {kind}, which the Lava backend cannot host{hint}; "
                                       f"supported: {', '.join(HOSTED)}")
    if back_edges(graph):
        raise UnsupportedNodeError(f"lava: recurrent edges {sorted(back_edges(graph))} are not supported")


def _neuron_params(name: str, node, meta: dict, dt: float, fixed: bool) -> dict:
    kind = node_kind(node)
    if kind == "LoihiLIF":
        return {"du": int(node.du), "dv": int(node.dv), "vth": int(node.vth), "in_gain": 1.0,
                "bias_mant": np.asarray(node.bias_mant, np.int64), "bias_exp": np.asarray(node.bias_exp, np.int64)}
    if fixed:
        raise SnncError(f"lava: node {name!r} ({kind}) in a fixed-point graph: run quantize (LoihiLIF) first")
    if meta.get("reset", "zero") not in ("zero", "subtract"):
        raise UnsupportedNodeError(f"lava: node {name!r} ({kind}): unknown reset {meta.get('reset')!r}")
    if np.any(np.asarray(node.v_reset) != 0):
        raise UnsupportedNodeError(f"lava: node {name!r} ({kind}): v_reset must be 0 (Lava resets v to 0)")
    fp = neuron_params(node, dt, name)  # the one float derivation (IF: β = 1, no leak)
    beta = np.float64(1.0) if fp.beta is None else fp.beta
    g, leak = fp.gain, 0.0 if fp.leak is None else fp.leak
    if beta.size > 1 and np.ptp(beta):
        raise UnsupportedNodeError(f"lava: node {name!r} ({kind}): per-neuron decays (Lava's dv is per population)")
    g = np.asarray(g, np.float64)
    if g.size > 1 and np.ptp(g):
        raise UnsupportedNodeError(f"lava: node {name!r} ({kind}): per-neuron input gains are not supported")
    return {"du": 1.0, "dv": float(1.0 - beta.reshape(-1)[0]), "vth": np.asarray(node.v_threshold, np.float64),
            "in_gain": float(g.reshape(-1)[0]), "bias_mant": np.asarray(leak, np.float64), "bias_exp": 0}


def lower(graph: nir.NIRGraph, *, clip_weights: bool = False) -> dict:
    """The Lava spec of ``graph`` (module docstring); raises before anything is built.

    One walk translates every node into a layer (:class:`_Lowering`), then the named steps of
    :data:`LOWERING_STEPS` run in order, each from layers to new layers, and the spec is assembled."""
    refuse_unhosted(graph)
    walk = _Lowering(infer_shapes(graph), clip_weights)
    for name in walk.order:
        walk.visit(name)
    layers = walk.layers
    for step in LOWERING_STEPS:
        layers = step(layers, walk)
    return walk.spec(layers)


def _graph_numerics(g: nir.NIRGraph) -> tuple[dict, bool, str, str]:
    """(metadata, fixed, threshold, reset) of ``g``; refuses what a fixed-point Lava network cannot run."""
    meta = (g.metadata or {}).get("snnc") or {}
    kinds = {node_kind(n) for n in g.nodes.values()}
    fixed = meta.get("numerics") == "fixed" or "LoihiLIF" in kinds
    threshold = meta.get("threshold", ">")
    if fixed and threshold != ">":
        raise SnncError(f"lava: a fixed-point graph must use threshold '>' (Lava's v > vth), got {threshold!r}")
    reset = meta.get("reset", "zero")
    if fixed and reset != "zero":
        raise UnsupportedNodeError("lava: a fixed-point graph must reset to zero (Loihi's LIF); subtractive reset "
                                   "runs only in float (--float)")
    return meta, fixed, threshold, reset


class _Lowering:
    """One walk over the graph in topological order. A *signal* is the list of terms a node receives: each
    term is a source layer (or ``"input"``), the CHW shape of its output, whether it was flattened, and the
    TimeGain it passed through (one shared dict per TimeGain)."""

    def __init__(self, g: nir.NIRGraph, clip_weights: bool) -> None:
        self.g, self.clip = g, clip_weights
        self.meta, self.fixed, self.threshold, self.reset = _graph_numerics(g)
        self.dt = float(self.meta.get("dt", 1e-3))
        self.pred = predecessors(g)
        self.order = topological_order(g)
        self.inputs = [n for n in self.order if isinstance(g.nodes[n], nir.Input)]
        self.outputs = [n for n in self.order if isinstance(g.nodes[n], nir.Output)]
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise SnncError(f"lava: graph needs one Input and one Output, has {self.inputs} and {self.outputs}")
        self.signal: dict[str, list[dict]] = {}
        self.layers: list[dict] = []
        self.by_name: dict[str, dict] = {}
        self.T_gain = None

    def summed(self, name: str) -> list[dict]:
        return [t for p in self.pred[name] for t in self.signal[p]]

    def graded(self, terms: list[dict]) -> bool:
        return len(terms) != 1 or terms[0]["src"] == "input" or self.by_name[terms[0]["src"]]["kind"] != "neuron"

    def visit(self, name: str) -> None:
        node, kind = self.g.nodes[name], node_kind(self.g.nodes[name])
        if kind == "Input":
            self.signal[name] = [{"src": "input", "shape": list(shape_of(self.g, name, "output")), "flat": False}]
            return
        terms = self.summed(name)
        if kind == "Output":
            return
        if kind == "Flatten":
            self.signal[name] = [{**t, "flat": True} if len(t["shape"]) == 3 else t for t in terms]
            return
        if kind == "TimeGain":
            self.signal[name] = self.time_gain(name, node, terms)
            return
        if any("gain" in t for t in terms) and kind not in NEURONS:
            raise UnsupportedNodeError(f"lava: TimeGain before {name!r} ({kind}): a gain must feed a neuron directly")
        layer = self.neuron(name, node, kind, terms) if kind in NEURONS else self.synapse(name, node, kind, terms)
        self.layers.append(layer)
        self.by_name[name] = layer
        self.signal[name] = [{"src": name, "shape": list(shape_of(self.g, name, "output")), "flat": False}]

    def time_gain(self, name: str, node, terms: list[dict]) -> list[dict]:
        """The terms marked with this TimeGain (it becomes the per-step input gain of the neuron it feeds)."""
        if node.rectify:
            raise UnsupportedNodeError(f"lava: TimeGain {name!r} rectifies its input (MA-SNN attention's ReLU); "
                                       "Lava's LIF has no input rectification (compile with --target lava, which drops it)")
        fixed = self.fixed
        gain = np.asarray(node.gain_mant if (fixed and np.asarray(node.gain_mant).size) else node.gain)
        if fixed and not np.asarray(node.gain_mant).size:
            raise SnncError(f"lava: TimeGain {name!r} in a fixed-point graph has no gain_mant (run quantize)")
        self.T_gain = gain.shape[0]
        info = {"node": name, "gain": gain, "shift": int(node.gain_shift), "depth": int(timegain_depth(self.g, name))}
        if any("gain" in t for t in terms):
            raise UnsupportedNodeError(f"lava: TimeGain {name!r} follows another TimeGain")
        return [{**t, "gain": info} for t in terms]

    def neuron(self, name: str, node, kind: str, terms: list[dict]) -> dict:
        """A neuron layer with its own parameters; its TimeGain and the biases of the synapses feeding it are
        placed by the steps :func:`attach_time_gains` and :func:`move_biases_into_neurons`."""
        out_shape = shape_of(self.g, name, "output")
        p = _neuron_params(name, node, self.meta, self.dt, self.fixed)
        return {"name": name, "kind": "neuron", "source_kind": kind, "shape": list(out_shape),
                "sources": terms, "du": p["du"], "dv": p["dv"], "in_gain": p["in_gain"],
                "vth": neuron_array_to_lava(p["vth"], out_shape), "bias_mant": neuron_array_to_lava(p["bias_mant"], out_shape),
                "bias_exp": neuron_array_to_lava(p["bias_exp"], out_shape), "gain": None, "gain_shift": 0, "depth": 0}

    def synapse(self, name: str, node, kind: str, terms: list[dict]) -> dict:
        """A conv (Conv2d or a linear pool) or dense layer; its bias (``bias_chw``) waits for the neuron it feeds."""
        layer = {"name": name, "sources": terms, "shape": list(shape_of(self.g, name, "output")),
                 "graded": self.graded(terms), "num_message_bits": GRADED_BITS if self.graded(terms) else 0}
        if kind in ("Conv2d", "SumPool2d", "AvgPool2d"):
            layer.update(self.conv(name, node, kind))
        else:
            layer.update(self.dense(name, node, kind, terms))
        return layer

    def conv(self, name: str, node, kind: str) -> dict:
        in_shape, out_shape = shape_of(self.g, name, "input"), shape_of(self.g, name, "output")
        if kind == "Conv2d":
            if isinstance(node.padding, str):
                raise UnsupportedNodeError(f"lava: Conv2d {name!r}: string padding {node.padding!r}")
            w, stride, padding, dilation = np.asarray(node.weight, np.float64), node.stride, node.padding, node.dilation
            groups = int(np.asarray(node.groups).reshape(-1)[0])
            bias = np.asarray(node.bias if node.bias is not None else 0.0, np.float64)
        else:
            if self.fixed and kind == "AvgPool2d":
                raise SnncError(f"lava: AvgPool2d {name!r} has no fixed-point form (run fuse_pooling)")
            w = pool_as_depthwise(kind, in_shape[0], pair(node.kernel_size))
            stride, padding, dilation, groups, bias = node.stride, node.padding, 1, in_shape[0], 0.0
        if self.fixed:
            w = check_fixed_weights(name, w, dense=False, clip=self.clip)
        w, groups = regroup(w, groups)
        if tuple(conv_output_chw(in_shape, w.shape, stride, padding, dilation)) != tuple(out_shape):
            raise SnncError(f"lava: Conv {name!r}: output shape mismatch")
        bias_chw = np.broadcast_to(np.asarray(bias).reshape(-1, 1, 1) if np.ndim(bias) else bias, tuple(out_shape))
        return {"kind": "conv", **lava_conv_params(w, in_shape, stride, padding, dilation, groups),
                "bias_chw": bias_chw.copy()}

    def dense(self, name: str, node, kind: str, terms: list[dict]) -> dict:
        w = np.asarray(node.weight, np.float64)
        if self.fixed:
            w = check_fixed_weights(name, w, dense=True, clip=self.clip)
        flat = [t for t in terms if t["flat"]]
        if flat:
            c, h, wd = flat[0]["shape"]
            perm = np.arange(c * h * wd).reshape(c, h, wd).transpose(2, 1, 0).reshape(-1)
            w = w[:, perm]  # column j of the Lava (W, H, C)-ordered input = CHW column perm[j]
            if len(flat) != len(terms):
                raise UnsupportedNodeError(f"lava: {name!r} sums flattened and unflattened inputs")
        bias = np.asarray(node.bias, np.float64) if kind == "Affine" and node.bias is not None else np.zeros(1)
        out_shape = shape_of(self.g, name, "output")
        return {"kind": "dense", "weight": np.ascontiguousarray(w),
                "bias_chw": np.broadcast_to(bias, tuple(out_shape)).copy()}

    def spec(self, layers: list[dict]) -> dict:
        """The spec of the stepped ``layers``: the output must be one spiking layer, every bias placed."""
        out_terms = self.summed(self.outputs[0])
        if (len(out_terms) != 1 or out_terms[0]["src"] == "input"
                or self.by_name[out_terms[0]["src"]]["kind"] != "neuron"):
            raise UnsupportedNodeError("lava: the graph output must be one spiking layer (Lava streams spikes)")
        for layer in layers:
            b = layer.get("bias_chw")
            if b is not None and np.any(b):
                raise UnsupportedNodeError(f"lava: synapse {layer['name']!r} has a bias but feeds no neuron")
        layers = [{k: v for k, v in layer.items() if k != "bias_chw"} for layer in layers]
        g = self.g
        return {"format": "snnc-lava", "version": 1, "fixed": bool(self.fixed), "threshold": self.threshold,
                "reset": self.reset, "input": {"name": self.inputs[0], "shape": list(shape_of(g, self.inputs[0], "output"))},
                "output": {"src": out_terms[0]["src"], "shape": list(shape_of(g, self.outputs[0], "input"))},
                "pad": _max_synapse_chain(layers), "T_gain": self.T_gain, "layers": layers}


def _max_synapse_chain(layers: list[dict]) -> int:
    """Longest run of consecutive synapses (no neuron between): the idle steps between windows."""
    chain: dict[str, int] = {}
    for layer in layers:
        if layer["kind"] == "neuron":
            chain[layer["name"]] = 0
            continue
        prev = [chain[t["src"]] for t in layer["sources"] if t["src"] != "input"]
        chain[layer["name"]] = 1 + max(prev, default=0)
    return max(chain.values(), default=1) or 1
