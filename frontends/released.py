"""Released ASA-SNN checkpoints (github BICLab/ASA-SNN @ c68b2d0) -> the snnc IR.

Layouts accepted (keys, wrappers, training checkpoints): :mod:`snnc.frontends.released_keys`.

* Arch A / D (``models/Net.py``, ``Net4.py``) -> the node names of snnc's ``lif-snn-3``: per conv layer
  i ``b{i}_conv`` (3x3, pad 1, bias), ``b{i}_bn``, ``b{i}_pool`` (AvgPool 2 on currents, i = 1, 2),
  ``b{i}_attn`` (ASA), ``b{i}_lif`` (IFCell: U = beta·U'(1 − S) + X, S = [U >= v_th], beta 0.3, v_th 0.3
  from ``config.py``; not in the state_dict, so arguments); ``b3_flatten``, ``b3_fc``, ``b3_lif``,
  ``b4_fc``, ``b4_lif``; readout mean over T.
* Arch B (``models/Net2.py``) -> snnc's ``lif-snn-5``: ``b0`` conv (no bias) → BN → ASA (r = 1) →
  PLIF; ``b1..b4`` MaxPool 2 on spikes first; ``b5_inpool`` MaxPool 2, ``b5_flatten``, ``b5_fc``,
  ``b5_lif``; ``b6_fc``, ``b6_lif``; readout vote 10. spikingjelly's ParametricLIFNode
  (V ← V + (X − V)·k, k = sigmoid(w), v_th 1, hard reset to 0) is written as LIF with beta = 1 − k,
  gain = k (docs/design.md §3.3; k is computed with torch.sigmoid in float32, as snnc's PLIF does).

**Orientation.** ASA-SNN's own loaders (``datasets/events_timeslices.py``: gesture, gait, action) write
frames [T, P, X, Y] (x first; ``frame_layout="TPXY"``); snnc's are (C, H = y, W = x). The frontend then
transposes every spatial operator: conv and ASA-conv kernels get their two spatial axes swapped, FC1's
input columns are permuted from (C, X, Y) to (C, Y, X) order; on transposed frames the graph computes
what the released net computes on its own (pooling and ASA's spatial mean/max are symmetric).
spikingjelly's DVS128Gesture frames (arch B's ``gesture_sj`` runs, the README's LIF-SNN-5 Gesture
numbers) are [T, P, Y, X] already: ``frame_layout="TPYX"`` keeps the weights as they are. Default
(``None``): "TPYX" for an arch B net whose FC1 takes channels·4·4 inputs (only ``gesture_sj``'s
128x128 frames give that; the action sets give channels·80/ds² or 512), "TPXY" otherwise.
``metadata["snnc"]["released"]`` records which.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import make_graph
from snnc.compiler.ir.shapes import infer_shapes, output_shape
from snnc.errors import SnncError
from snnc.frontends.common import DEFAULT_DT, f32, graph_metadata, lif_node
from snnc.frontends.released_keys import check_keys, released_state_dict

__all__ = ["released_state_dict", "released_to_graph"]

REPO = {"A": "BICLab/ASA-SNN@c68b2d0 models/Net.py (arch A/D)", "B": "BICLab/ASA-SNN@c68b2d0 models/Net2.py (arch B)"}
LAYOUTS = ("TPXY", "TPYX")


class _Graph:
    """Nodes and a linear chain of edges; ``shape`` is the current output shape."""

    def __init__(self, shape: tuple[int, ...], swap: bool, dt: float) -> None:
        self.nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.array(shape, dtype=np.int64))}
        self.edges: list[tuple[str, str]] = []
        self.shape, self.src, self.swap, self.dt = tuple(shape), "input", swap, dt

    def add(self, name: str, node: nir.NIRNode) -> None:
        self.nodes[name] = node
        self.edges.append((self.src, name))
        self.shape, self.src = output_shape(name, node, self.shape), name

    def spatial(self, w: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(w.transpose(0, 1, 3, 2)) if self.swap else w

    def conv(self, name: str, w: np.ndarray, b: np.ndarray | None) -> None:
        bias = b if b is not None else np.zeros(w.shape[0], dtype=np.float32)
        self.add(name, nir.Conv2d(input_shape=np.array(self.shape[1:]), weight=self.spatial(w), stride=(1, 1),
                                  padding=(1, 1), dilation=(1, 1), groups=1, bias=bias))

    def bn(self, name: str, sd: Mapping, p: str) -> None:
        stats = (f32(sd[f"{p}.{k}"]) for k in ("running_mean", "running_var", "weight", "bias"))
        self.add(name, ext.BatchNorm(*stats, eps=1e-5, shape=np.array(self.shape)))

    def asa(self, name: str, sd: Mapping, p: str, T: int, lam: float) -> int:
        if f"{p}.fc.weight" in sd:
            fc_a, fc_b, r = f32(sd[f"{p}.fc.weight"]), np.zeros((0, 0), dtype=np.float32), 1
        else:
            fc_a, fc_b = f32(sd[f"{p}.fc.0.weight"]), f32(sd[f"{p}.fc.2.weight"])
            r = fc_a.shape[1] // max(1, fc_a.shape[0])
        c = self.shape[0]
        self.add(name, ext.ASA(alpha=f32(sd[f"{p}.alpha"]), gamma=f32(sd[f"{p}.beta"]), fc1=fc_a, fc2=fc_b,
                               conv1=self.spatial(f32(sd[f"{p}.conv1.weight"])),
                               conv2=self.spatial(f32(sd[f"{p}.conv2.weight"])), T=T, reduction=r, lam=lam,
                               k_c=int(c * lam), k_t=int(T * lam), shape=np.array(self.shape)))
        return r

    def lif(self, name: str, beta: float, gain: float, v_th: float) -> None:
        self.add(name, lif_node(beta, gain, v_th, self.shape, self.dt))

    def maxpool(self, name: str) -> None:
        k = np.array([2, 2], dtype=np.int64)
        self.add(name, ext.MaxPool2d(k, k.copy(), np.array([0, 0], dtype=np.int64)))

    def fc(self, name: str, w: np.ndarray, b: np.ndarray, flatten: str | None = None) -> None:
        if flatten:
            c, h, wd = self.shape
            self.add(flatten, nir.Flatten(input_type={"input": np.array(self.shape)}, start_dim=0, end_dim=-1))
            if self.swap:  # released FC1 columns are in (C, X, Y) order; ours are (C, Y, X)
                w = np.ascontiguousarray(w.reshape(w.shape[0], c, wd, h).transpose(0, 1, 3, 2).reshape(w.shape[0], -1))
        self.add(name, nir.Affine(weight=w, bias=b))


def _asa_T(sd: Mapping, p: str, T: int | None, where: str) -> int:
    fc = sd.get(f"{p}.fc.weight", sd.get(f"{p}.fc.0.weight"))
    t_asa = int(fc.shape[1])
    if T is not None and int(T) != t_asa:
        raise SnncError(f"{where}: T={T} but the ASA weights are for T={t_asa}")
    return t_asa


def _input_size(features: int, channels: int, factor: int, input_size, where: str) -> tuple[int, int]:
    if input_size is None:
        side = math.isqrt(max(1, features // max(1, channels))) * factor
        input_size = (side, side)
    h, w = (int(s) for s in input_size)
    if channels * (h // factor) * (w // factor) != features:
        raise SnncError(f"{where}: FC1 takes {features} inputs, the conv output is "
                        f"{channels}x{h // factor}x{w // factor}")
    return h, w


def _plif_k(w: Any) -> float:
    import torch

    return float(torch.sigmoid(torch.as_tensor(f32(w)).reshape(())))


def _lif_snn3(sd: Mapping, attn: bool, T: int | None, beta: float, v_th: float, lam: float, dt: float,
              input_size, swap: bool, where: str) -> tuple[_Graph, dict]:
    T = _asa_T(sd, "ConvAttLIFs.0.attn", T, where) if attn else int(T if T is not None else 60)
    widths = [int(sd[f"ConvAttLIFs.{i}.conv.0.weight"].shape[0]) for i in range(3)]
    in_ch = int(sd["ConvAttLIFs.0.conv.0.weight"].shape[1])
    fc1 = f32(sd["FCs.0.linear.0.weight"])
    h, w = _input_size(fc1.shape[1], widths[2], 4, input_size, where)
    g, r = _Graph((in_ch, h, w), swap, dt), 1
    for i in range(3):
        p = f"ConvAttLIFs.{i}"
        g.conv(f"b{i}_conv", f32(sd[f"{p}.conv.0.weight"]), f32(sd[f"{p}.conv.0.bias"]))
        g.bn(f"b{i}_bn", sd, f"{p}.bn.0")
        if i > 0:
            k = np.array([2, 2], dtype=np.int64)
            g.add(f"b{i}_pool", nir.AvgPool2d(kernel_size=k, stride=k.copy(), padding=np.array([0, 0])))
        if attn:
            r = g.asa(f"b{i}_attn", sd, f"{p}.attn", T, lam)
        g.lif(f"b{i}_lif", beta, 1.0, v_th)
    g.fc("b3_fc", fc1, f32(sd["FCs.0.linear.0.bias"]), flatten="b3_flatten")
    g.lif("b3_lif", beta, 1.0, v_th)
    g.fc("b4_fc", f32(sd["FCs.1.linear.0.weight"]), f32(sd["FCs.1.linear.0.bias"]))
    g.lif("b4_lif", beta, 1.0, v_th)
    config = {"model": "lif-snn-3", "attention": "asa" if attn else "none", "T": T, "in_channels": in_ch,
              "input_size": [h, w], "num_classes": int(g.shape[0]), "widths": widths, "fc_hidden": int(fc1.shape[0]),
              "reduction": r, "lam": lam, "v_th": v_th, "beta": beta, "dropout": 0.0}
    return g, config


def _lif_snn5(sd: Mapping, attn: bool, T: int | None, lam: float, dt: float, input_size, swap: bool,
              where: str) -> tuple[_Graph, dict]:
    T = _asa_T(sd, "ConvAttLIFs.0.0.attn", T, where) if attn else int(T if T is not None else 20)
    widths = [int(sd[f"ConvAttLIFs.{i}.0.conv.0.weight"].shape[0]) for i in range(5)]
    in_ch = int(sd["ConvAttLIFs.0.0.conv.0.weight"].shape[1])
    fc1 = f32(sd["FCs.0.1.fc.weight"])
    h, w = _input_size(fc1.shape[1], widths[4], 32, input_size, where)
    g = _Graph((in_ch, h, w), swap, dt)
    for i in range(5):
        p = f"ConvAttLIFs.{i}.0"
        if i > 0:
            g.maxpool(f"b{i}_inpool")
        g.conv(f"b{i}_conv", f32(sd[f"{p}.conv.0.weight"]), None)
        g.bn(f"b{i}_bn", sd, f"{p}.bn.0")
        if attn:
            g.asa(f"b{i}_attn", sd, f"{p}.attn", T, lam)
        k = _plif_k(sd[f"{p}.spike.0.w"])
        g.lif(f"b{i}_lif", 1.0 - k, k, 1.0)
    g.maxpool("b5_inpool")
    for j, name in ((0, "b5"), (1, "b6")):
        g.fc(f"{name}_fc", f32(sd[f"FCs.{j}.1.fc.weight"]), f32(sd[f"FCs.{j}.1.fc.bias"]),
             flatten="b5_flatten" if j == 0 else None)
        k = _plif_k(sd[f"FCs.{j}.1.spike.0.w"])
        g.lif(f"{name}_lif", 1.0 - k, k, 1.0)
    if g.shape[0] % 10:
        raise SnncError(f"{where}: released LIF-SNN-5 output has {g.shape[0]} neurons, not 10 per class")
    config = {"model": "lif-snn-5", "attention": "asa" if attn else "none", "T": T, "in_channels": in_ch,
              "input_size": [h, w], "num_classes": int(g.shape[0]) // 10, "widths": widths,
              "fc_hidden": int(fc1.shape[0]), "vote": 10, "reduction": 1, "lam": lam, "v_th": 1.0, "dropout": 0.0}
    return g, config


def released_to_graph(sd: Mapping, *, where: str = "checkpoint", T: int | None = None, beta: float = 0.3,
                      v_th: float = 0.3, lam: float = 0.5, dt: float = DEFAULT_DT,
                      input_size: tuple[int, int] | None = None, frame_layout: str | None = None) -> nir.NIRGraph:
    """The IR of a released state_dict (any accepted layout; see module docstring).

    ``T`` is read from the ASA fc weights when present (vanilla nets: default 60 for LIF-SNN-3, 20 for
    LIF-SNN-5). ``beta``/``v_th`` are LIF-SNN-3's IFCell constants. ``input_size`` (H, W) defaults to the
    square size implied by FC1's input width.
    """
    if frame_layout not in (None, *LAYOUTS):
        raise SnncError(f"{where}: frame_layout {frame_layout!r} is not one of {', '.join(LAYOUTS)}")
    norm = released_state_dict(dict(sd), where)
    if norm is None:
        raise SnncError(f"{where}: not a released ASA-SNN state_dict (no 'ConvAttLIFs.' keys)")
    arch, attn = check_keys(norm, where)
    if frame_layout is None:
        fc1, c5 = norm.get("FCs.0.1.fc.weight"), norm.get("ConvAttLIFs.4.0.conv.0.weight")
        gesture_sj = arch == "B" and int(fc1.shape[1]) == int(c5.shape[0]) * 16
        frame_layout = "TPYX" if gesture_sj else "TPXY"
    swap = frame_layout == "TPXY"
    try:
        if arch == "A":
            g, config = _lif_snn3(norm, attn, T, beta, v_th, lam, dt, input_size, swap, where)
            readout = {"kind": "mean"}
        else:
            g, config = _lif_snn5(norm, attn, T, lam, dt, input_size, swap, where)
            readout = {"kind": "vote", "group": 10}
    except SnncError as e:
        raise SnncError(str(e) if str(e).startswith(where) else f"{where}: {e}") from None
    except (ValueError, TypeError) as e:  # e.g. a non-finite or wrongly typed value inside a node
        raise SnncError(f"{where}: released ASA-SNN state_dict cannot be converted ({e})") from None
    g.nodes["output"] = nir.Output(output_type=np.array(g.shape))
    g.edges.append((g.src, "output"))
    note = ("graph input is (C, H=y, W=x): released [P, X, Y] frames transposed on X, Y" if swap
            else "graph input is the released [P, Y, X] frames as they are")
    extra = {"released": {"source": REPO[arch], "frame_layout": frame_layout, "transposed": swap, "note": note}}
    meta = graph_metadata(T=config["T"], readout=readout, model=config, dt=dt, extra=extra)
    return infer_shapes(make_graph(g.nodes, g.edges, meta))
