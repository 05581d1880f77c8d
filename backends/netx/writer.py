"""NetX blocks -> the HDF5 file lava-dl 0.6.0's ``netx.hdf5.Network`` loads (h5py only: no lava-dl, no torch).

Schema as ``lava/lib/dl/netx/{hdf5,utils}.py`` 0.6.0 read it: group ``layer`` with subgroups
``"0"``, ``"1"``, … in order; ``type`` a bytes dataset of shape (1,); ``input`` with ``shape`` (CHW) and
no ``neuron`` (a neuron there would build an ``Input`` block NetX cannot compile); ``conv`` with
``shape`` (output CHW), ``weight`` (C_out, C_in, kH, kW), ``stride``/``padding``/``dilation`` as (H, W),
``groups``; ``flatten`` (``shape``: the flat size) before a dense that reads a CHW map; ``dense`` with
``shape`` and ``weight`` (n_out, n_in in CHW-flatten order); both with ``neuron`` {``type`` CUBA,
``iDecay`` = du + 1, ``vDecay`` = dv, ``vThMant`` = vth, ``refDelay`` 1, ``gradedSpike`` False} and,
when non-zero, ``bias`` (per channel when constant over each channel, else per neuron in NetX's WHC
order). Weights and biases are exact integers stored as float32 (NetX reads them ``astype(int)``).
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

FORMAT = "snnc-netx"
FORMAT_VERSION = 1


def _type(group: h5py.Group, key: str, value: str) -> None:
    group.create_dataset(key, (1,), f"S{max(len(value), 1)}", [value.encode("ascii")])


def _neuron(layer: h5py.Group, n: dict) -> None:
    g = layer.create_group("neuron")
    _type(g, "type", "CUBA")
    g.create_dataset("iDecay", data=n["du"] + 1)  # netx: Lava du = iDecay - 1
    g.create_dataset("vDecay", data=n["dv"])
    g.create_dataset("vThMant", data=n["vth"])
    g.create_dataset("refDelay", data=1)  # not read by netx 0.6.0; written as slayer does
    g.create_dataset("gradedSpike", data=False)
    bias = np.asarray(n["bias"])
    if not np.any(bias):
        return
    if bias.ndim == 3 and np.all(bias == bias[:, :1, :1]):
        layer.create_dataset("bias", data=bias[:, 0, 0].astype(np.float32))  # per channel
    else:  # per neuron, in NetX's (W, H, C) neuron order
        layer.create_dataset("bias", data=(bias.transpose(2, 1, 0) if bias.ndim == 3 else bias).astype(np.float32))


def _conv(layer: h5py.Group, s: dict) -> None:
    _type(layer, "type", "conv")
    layer.create_dataset("shape", data=np.asarray(s["out_chw"], np.int64))
    layer.create_dataset("weight", data=np.asarray(s["weight"], np.float32))
    for key in ("stride", "padding", "dilation"):
        layer.create_dataset(key, data=np.asarray(s[key], np.int64))
    layer.create_dataset("groups", data=int(s["groups"]))
    layer.create_dataset("inChannels", data=int(s["in_chw"][0]))  # informative (slayer writes them)
    layer.create_dataset("outChannels", data=int(s["out_chw"][0]))
    layer.create_dataset("kernelSize", data=np.asarray(s["weight"].shape[2:], np.int64))


def _dense(layer: h5py.Group, s: dict) -> None:
    _type(layer, "type", "dense")
    layer.create_dataset("shape", data=np.asarray(s["out_chw"], np.int64))
    layer.create_dataset("weight", data=np.asarray(s["weight"], np.float32))
    layer.create_dataset("inFeatures", data=int(s["weight"].shape[1]))
    layer.create_dataset("outFeatures", data=int(s["weight"].shape[0]))


def write_h5(path: str | Path, net: dict) -> list[int]:
    """Write ``net`` (:func:`.blocks.netx_blocks`) to ``path``; returns the HDF5 layer index of each block."""
    index: list[int] = []
    with h5py.File(path, "w") as f:
        root = f.create_group("layer")
        layers: list[tuple[str, dict]] = [("input", {})]
        for block in net["blocks"]:
            s = block["synapse"]
            if s["type"] == "dense" and s.get("flat_in") and len(s["in_chw"]) == 3:
                layers.append(("flatten", {"size": int(np.prod(s["in_chw"]))}))
            index.append(len(layers))
            layers.append((s["type"], block))
        for i, (kind, item) in enumerate(layers):
            g = root.create_group(str(i))
            if kind == "input":
                _type(g, "type", "input")
                g.create_dataset("shape", data=np.asarray(net["input"]["shape"], np.int64))
            elif kind == "flatten":
                _type(g, "type", "flatten")
                g.create_dataset("shape", data=np.asarray([item["size"]], np.int64))
            else:
                (_conv if kind == "conv" else _dense)(g, item["synapse"])
                _neuron(g, item["neuron"])
    return index


def describe(net: dict, index: list[int], filename: str, T: int | None) -> dict:
    """The JSON sidecar: which snnc node each block's spikes are, its depth, and how to feed the input."""
    first = net["blocks"][0]["synapse"]
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "file": filename, "T": T,
            "depth": net["depth"],
            "input": {**net["input"], "message_bits": 24,
                      "layout": "CHW-flat" if first["type"] == "dense" and len(first["in_chw"]) == 3 else "WHC"},
            "blocks": [{"layer": i, "type": b["synapse"]["type"], "synapse": b["synapse"]["name"],
                        "fused": b["fused"], "neuron": b["neuron"]["name"], "shape": b["neuron"]["shape"],
                        "depth": b["depth"]} for i, b in zip(index, net["blocks"])]}


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=1) + "\n"
