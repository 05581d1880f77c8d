"""The named steps of the Lava lowering, run in order after the walk of :func:`snnc.backends.lava.lower.lower`.

The walk turns each IR node into one layer dict: synapses keep their bias (``bias_chw``, (C, H, W)), and the
currents that passed through a ``TimeGain`` carry a mark on their source terms. Two facts of Lava's neuron
then decide where these go, and each is one step here, from layers to new layers (the input is never changed):

1. :func:`attach_time_gains`: Lava has no gain node, so a TimeGain becomes the per-step input gain of the
   neuron it feeds (``U_t = … + g_t ⊙ I_t``; the neuron process of :mod:`snnc.backends.lava.lavaprocs`).
2. :func:`move_biases_into_neurons`: Lava's synapses have no bias, so each synapse bias b moves into the
   neuron it feeds, scaled by that neuron's input gain: bias_mant = a·v_leak + g·Σ b. In the IR a synapse bias
   passes the synapse's one-step delay like any current, on Lava it does not (design.md §3.4): this is why the
   step belongs to the Lava lowering, after the IR pipeline, and not to an IR pass (under snnc timing the graph
   it would leave behind means something else).

Neither is an IR pass for the same reason: the IR has no neuron with a bias or a per-step input gain, and the
graph the CPU simulator checks is the one before lowering. ``LOWERING_STEPS`` lists them in order.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from snnc.backends.lava.layout import neuron_array_to_lava
from snnc.compiler.ir.graph_utils import node_kind
from snnc.errors import SnncError, UnsupportedNodeError

Layers = list[dict]


def attach_time_gains(layers: Layers, walk: Any) -> Layers:
    """Each neuron takes the TimeGain its input currents passed through (at most one) as its per-step input
    gain ``gain`` (T, *g) in Lava layout, with ``gain_shift`` (fixed point), ``depth`` (the gain's delay in
    steps) and ``gain_node``; the marks leave the terms."""
    out = []
    for layer in layers:
        if layer["kind"] != "neuron":
            out.append(layer)
            continue
        gains = {id(t.get("gain")): t.get("gain") for t in layer["sources"]}
        if len(gains) > 1:
            raise UnsupportedNodeError(f"lava: neuron {layer['name']!r} receives currents with different TimeGains")
        gain = next(iter(gains.values()))
        new = {**layer, "sources": [{k: v for k, v in t.items() if k != "gain"} for t in layer["sources"]]}
        if gain is not None:
            gl = np.asarray(gain["gain"])  # (T, *g), g broadcasting against (C, H, W): kept compact
            gl = gl.reshape(gl.shape + (1,) * (1 + len(layer["shape"]) - gl.ndim))
            np.broadcast_shapes(gl.shape[1:], tuple(layer["shape"]))
            new.update(gain=np.ascontiguousarray(gl.transpose(0, 3, 2, 1) if gl.ndim == 4 else gl),
                       gain_shift=gain["shift"], depth=gain["depth"], gain_node=gain["node"])
        out.append(new)
    return out


def move_biases_into_neurons(layers: Layers, walk: Any) -> Layers:
    """The biases b of the synapses feeding a neuron, summed over its inputs, join its bias:
    ``bias_mant ← bias_mant + in_gain · Σ b`` (float only: in fixed point ``quantize`` has folded them). A synapse
    whose bias feeds another synapse is refused; one whose bias feeds nothing is refused when the spec is
    assembled."""
    by_name = {layer["name"]: layer for layer in layers}
    pending = {layer["name"]: layer["bias_chw"] for layer in layers if "bias_chw" in layer}
    neuron_bias = {}
    for layer in layers:
        name, sources = layer["name"], layer["sources"]
        inner = [t["src"] for t in sources if t["src"] != "input" and by_name[t["src"]]["kind"] != "neuron"]
        if layer["kind"] != "neuron":
            for src in inner:
                if src in pending and np.any(pending[src]):
                    kind = node_kind(walk.g.nodes[name])
                    raise UnsupportedNodeError(f"lava: synapse {src!r} has a bias but feeds {name!r} ({kind}), "
                                               "not a neuron; Lava keeps biases in neurons")
            continue
        bias = np.zeros(layer["shape"])
        for src in inner:
            bias = bias + np.asarray(pending.pop(src, 0.0))
        if np.any(bias):
            if walk.fixed:
                raise SnncError(f"lava: synapse bias into {name!r} in a fixed-point graph (quantize folds it)")
            neuron_bias[name] = layer["bias_mant"] + layer["in_gain"] * neuron_array_to_lava(bias, layer["shape"])
    out = []
    for layer in layers:
        if layer["name"] in neuron_bias:
            layer = {**layer, "bias_mant": neuron_bias[layer["name"]]}
        elif "bias_chw" in layer and layer["name"] not in pending:
            layer = {k: v for k, v in layer.items() if k != "bias_chw"}  # placed in the neuron it feeds
        out.append(layer)
    return out


#: the steps after the walk, in order (each: (layers, walk) -> new layers)
LOWERING_STEPS: tuple[Callable[[Layers, Any], Layers], ...] = (attach_time_gains, move_biases_into_neurons)
