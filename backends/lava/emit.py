"""Build Lava processes from a spec (:mod:`.lower`): RingBuffer → Dense/Conv → SnncNeuron → Extractor.

Import only after :func:`snnc.backends.lava.compat.install` (this module imports Lava).
Several sources into one port are summed by Lava (NIR's edge semantics). A flattened map reaches a
Dense through ``reshape`` (its weight columns are already in Lava's (W, H, C) order). Fixed-point
Dense weights were checked by :mod:`.lower` to pass Lava's sign-mode clip and LSB truncation unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from lava.proc.io.extractor import Extractor
from lava.proc.io.source import RingBuffer

from snnc.backends.lava.layout import chw_to_lava
from snnc.backends.lava.lavaprocs.neuron import SnncNeuron
from snnc.backends.lava.synapses import synapse_process


@dataclass
class Network:
    """The built processes: the source, every layer by name, and one Extractor per spiking layer."""

    source: RingBuffer
    layers: dict = field(default_factory=dict)
    extractors: dict = field(default_factory=dict)

    @property
    def anchor(self):
        """Any process of the (connected) network, to call ``run``/``stop`` on."""
        return self.source


def _out_port(net: Network, term: dict, target_shape: tuple[int, ...]):
    proc = net.source if term["src"] == "input" else net.layers[term["src"]]
    port = proc.s_out if term["src"] == "input" or isinstance(proc, SnncNeuron) else proc.a_out
    if tuple(port.shape) != tuple(target_shape):
        port = port.reshape(tuple(target_shape))
    return port


def build(spec: dict, frames: np.ndarray, T: int, *, record_voltage: bool = False, buffer: int = 64,
          pad: int | None = None, starts: dict[str, int] | None = None) -> Network:
    """Processes for ``spec`` fed by RingBuffer ``frames`` (Lava layout [..., steps]), windows of T + pad
    steps (``pad`` default: the spec's); neuron ``name`` is active from window step ``starts[name]`` (0)."""
    fixed = spec["fixed"]
    net = Network(source=RingBuffer(data=frames.astype(np.int32) if fixed else frames.astype(np.float64)))
    window = (int(T), int(spec["pad"] if pad is None else pad))
    starts = starts or {}
    for layer in spec["layers"]:
        name, kind = layer["name"], layer["kind"]
        lava_shape = chw_to_lava(layer["shape"])
        if kind == "neuron":
            proc = SnncNeuron(shape=lava_shape, du=layer["du"], dv=layer["dv"], vth=layer["vth"],
                              bias_mant=layer["bias_mant"], bias_exp=layer["bias_exp"], in_gain=layer["in_gain"],
                              gain=layer["gain"], gain_shift=layer["gain_shift"], depth=layer["depth"],
                              window=window, start=int(starts.get(name, 0)), threshold_ge=spec["threshold"] == ">=",
                              reset_subtract=spec.get("reset", "zero") == "subtract",
                              record_voltage=record_voltage, name=name)
            in_port, in_shape = proc.a_in, lava_shape
        else:
            proc, in_port, in_shape = synapse_process(layer, fixed)
        for term in layer["sources"]:
            _out_port(net, term, in_shape).connect(in_port)
        net.layers[name] = proc
        if kind == "neuron":
            ext = Extractor(shape=proc.rec.shape, buffer_size=buffer)
            proc.rec.connect(ext.in_port)
            net.extractors[name] = ext
    return net
