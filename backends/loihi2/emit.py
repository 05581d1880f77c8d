"""Build a chip-ready Lava network from a loihi2 spec with stock processes only.

RingBuffer source → {``Conv`` | ``Dense``} → ``LIF`` (or ``LIFReset``) → … with one ``Extractor`` sink per
neuron population (streams each step to the host; a sink RingBuffer's ``data.get()`` costs ~40 µs per
element): every class comes from ``lava.proc.*`` (Lava 0.10.0), i.e. processes that have Loihi 2
NeuroCore models (the host-side ``lava.proc.io`` source/sinks are replaced by the chip's embedded-I/O
adapters on hardware). Import only after :func:`snnc.backends.lava.compat.install`.

Windows (:mod:`.runner`): ``"reset"`` builds ``LIFReset(reset_interval=T, reset_offset=(d + 1) % T)``
for a population at pipeline depth d (zeroes u, v at window step d, as the first frame arrives);
``"pad"`` builds plain ``LIF`` and the runner zeroes u, v, ``Conv.a_buf`` and ``Dense.a_buff`` with
``Var.set`` between windows. Several sources into one port are summed by Lava (NIR's edge semantics);
a flattened (W, H, C) map reaches a Dense through ``reshape`` (its columns are already in that order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from lava.proc.conv.process import Conv
from lava.proc.dense.process import Dense
from lava.proc.io.extractor import Extractor
from lava.proc.io.source import RingBuffer as Source
from lava.proc.lif.process import LIF, LIFReset

from snnc.backends.lava.layout import chw_to_lava
from snnc.backends.lava.synapses import synapse_process


@dataclass
class ChipNetwork:
    """The built processes: the source, every layer by name, one Extractor per neuron population."""

    source: Source
    layers: dict = field(default_factory=dict)
    sinks: dict = field(default_factory=dict)

    def synapses(self) -> list:
        """The Conv/Dense processes (their one-step buffers are state between windows)."""
        return [p for p in self.layers.values() if isinstance(p, (Conv, Dense))]

    def neurons(self) -> list:
        return [p for p in self.layers.values() if isinstance(p, LIF)]


def _out_port(net: ChipNetwork, term: dict, target_shape: tuple[int, ...]):
    proc = net.source if term["src"] == "input" else net.layers[term["src"]]
    port = proc.s_out if isinstance(proc, (Source, LIF)) else proc.a_out
    return port if tuple(port.shape) == tuple(target_shape) else port.reshape(tuple(target_shape))


def _neuron(layer: dict, shape: tuple[int, ...], window: str, T: int, depth: int):
    vth = np.asarray(layer["vth"]).reshape(-1)
    args = dict(shape=shape, du=int(layer["du"]), dv=int(layer["dv"]), vth=int(vth[0]),
                bias_mant=np.asarray(layer["bias_mant"]).astype(np.int32),
                bias_exp=np.asarray(layer["bias_exp"]).astype(np.int32), name=layer["name"])
    if window == "reset":
        return LIFReset(reset_interval=int(T), reset_offset=(int(depth) + 1) % int(T), **args)
    return LIF(**args)


def build(spec: dict, frames: np.ndarray, T: int, *, window: str, buffer: int = 64) -> ChipNetwork:
    """Stock processes for ``spec`` fed by ``frames`` (Lava layout [..., steps])."""
    depths = spec["loihi2"]["depths"]
    net = ChipNetwork(source=Source(data=frames.astype(np.int32)))
    for layer in spec["layers"]:
        name, kind = layer["name"], layer["kind"]
        lava_shape = chw_to_lava(layer["shape"])
        if kind == "neuron":
            proc = _neuron(layer, lava_shape, window, T, depths[name])
            in_port, in_shape = proc.a_in, lava_shape
        else:
            proc, in_port, in_shape = synapse_process(layer, fixed=True)
        for term in layer["sources"]:
            _out_port(net, term, in_shape).connect(in_port)
        net.layers[name] = proc
        if kind == "neuron":
            sink = Extractor(shape=lava_shape, buffer_size=buffer)
            proc.s_out.connect(sink.in_port)
            net.sinks[name] = sink
    return net


def process_classes(net: ChipNetwork) -> list[type]:
    """The classes of every process Lava's compiler will find from the source (its ``find_processes``)."""
    from lava.magma.compiler.compiler_graphs import find_processes

    return [type(p) for p in find_processes(net.source)]
