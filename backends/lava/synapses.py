"""Stock Lava synapse processes for the Dense and Conv layers of a Lava spec (shared by the lava and loihi2
emitters: :mod:`snnc.backends.lava.emit`, :mod:`snnc.backends.loihi2.emit`)."""

from __future__ import annotations

import numpy as np
from lava.proc.conv.process import Conv
from lava.proc.dense.process import Dense


def synapse_process(layer: dict, fixed: bool):
    """(process, its input port, the shape that port expects) for a spec layer of kind "dense" or "conv";
    fixed-point weights are handed to Lava as int32 (the spec holds them as float64 integers)."""
    w = layer["weight"]
    w = w.astype(np.int32) if fixed else w
    if layer["kind"] == "dense":
        proc = Dense(weights=w, num_message_bits=layer["num_message_bits"], name=layer["name"])
        return proc, proc.s_in, (w.shape[1],)
    proc = Conv(weight=w, input_shape=tuple(layer["input_shape"]), stride=tuple(layer["stride"]),
                padding=tuple(layer["padding"]), dilation=tuple(layer["dilation"]), groups=int(layer["groups"]),
                num_message_bits=layer["num_message_bits"], name=layer["name"])
    return proc, proc.s_in, tuple(layer["input_shape"])
