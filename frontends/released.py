"""Released ASA-SNN checkpoints (github BICLab/ASA-SNN, ``models/Net.py``, arch A/D) -> the snnc IR.

The released ``DVSGestureNet`` saves ``model.state_dict()`` with keys (spikingjelly containers
add ``.module``; i = 0, 1, 2 conv layers, j = 0, 1 FC layers)::

    ConvAttLIFs.{i}.conv.module.{weight,bias}                      Conv2d 3x3, padding 1
    ConvAttLIFs.{i}.bn.module.{weight,bias,running_mean,running_var,num_batches_tracked}
    ConvAttLIFs.{i}.attn.{alpha,beta}                              ASA alpha, gamma (1,)
    ConvAttLIFs.{i}.attn.fc.{0,2}.weight   (reduction r > 1)       or attn.fc.weight (r = 1)
    ConvAttLIFs.{i}.attn.conv{1,2}.weight                          (1, 2, 3, 3)
    ConvAttLIFs.{i}.spike.module.attn.*                            unused nested ASA(T=1): ignored
    FCs.{j}.linear.module.{weight,bias}

(no attn keys for the vanilla network). AvgPool 2 follows BN in layers 1 and 2; the LIF
constants (decay 0.3, threshold 0.3, ``config.py``) are not in the state_dict and are arguments.

**Orientation.** The released frames are [T, P, X, Y] (x first); snnc's are (C, H, W) with
H = y, W = x. The graph takes snnc frames, so the frontend transposes every spatial operator:
conv and ASA-conv kernels get their two spatial axes swapped, and FC1's input columns are
permuted from (C, X, Y) to (C, Y, X) order. On transposed frames the graph then computes exactly
what the released net computes on its own frames (pooling and ASA's spatial mean/max are
symmetric). ``metadata["snnc"]["released"]`` records this.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import make_graph
from snnc.compiler.ir.shapes import infer_shapes, output_shape
from snnc.frontends.common import DEFAULT_DT, f32, graph_metadata, lif_node
from snnc.errors import SnncError

REPO = "BICLab/ASA-SNN models/Net.py"
POOL_KERNELS = (1, 2, 2)


def released_state_dict(obj: Any) -> dict | None:
    """The released-network state_dict inside ``obj`` (raw, or under "state_dict"/"model"/"net";
    a DataParallel ``module.`` prefix is removed), or None if ``obj`` is not one."""
    if not isinstance(obj, Mapping):
        return None
    for key in ("state_dict", "model", "net"):
        if isinstance(obj.get(key), Mapping):
            return released_state_dict(obj[key])
    keys = [k for k in obj if isinstance(k, str)]
    if any(re.match(r"^(module\.)?ConvAttLIFs\.0\.conv\.module\.weight$", k) for k in keys):
        return {k[7:] if k.startswith("module.") else k: v for k, v in obj.items()}
    return None


def _get(sd: Mapping, key: str, where: str) -> np.ndarray:
    if key not in sd:
        raise SnncError(f"{where}: released ASA-SNN state_dict lacks {key!r}")
    return f32(sd[key])


def released_to_graph(sd: Mapping, *, where: str = "checkpoint", T: int | None = None, beta: float = 0.3,
                      v_th: float = 0.3, lam: float = 0.5, dt: float = DEFAULT_DT,
                      input_size: tuple[int, int] | None = None) -> nir.NIRGraph:
    """The IR of a released LIF-SNN-3 (arch A or D) state_dict; names as snnc's lif-snn-3 graph.

    ``T`` is read from the ASA fc weights when present (required for vanilla nets, default 60).
    ``input_size`` (H, W) defaults to the square size implied by FC1's input width.
    """
    convs = sorted({int(m.group(1)) for k in sd if (m := re.match(r"^ConvAttLIFs\.(\d+)\.conv\.module\.weight$", k))})
    fcs = sorted({int(m.group(1)) for k in sd if (m := re.match(r"^FCs\.(\d+)\.linear\.module\.weight$", k))})
    if convs != [0, 1, 2] or fcs != [0, 1]:
        raise SnncError(f"{where}: expected the released 3-conv + 2-FC network, found conv layers {convs}, FC layers {fcs}")
    attention = "asa" if "ConvAttLIFs.0.attn.alpha" in sd else "none"
    reduction = 1
    if attention == "asa":
        if "ConvAttLIFs.0.attn.fc.weight" in sd:
            t_asa = _get(sd, "ConvAttLIFs.0.attn.fc.weight", where).shape[1]
        else:
            fc0 = _get(sd, "ConvAttLIFs.0.attn.fc.0.weight", where)
            t_asa, reduction = fc0.shape[1], fc0.shape[1] // max(1, fc0.shape[0])
        if T is not None and int(T) != t_asa:
            raise SnncError(f"{where}: T={T} but the ASA weights are for T={t_asa}")
        T = t_asa
    T = int(T if T is not None else 60)
    widths = [int(_get(sd, f"ConvAttLIFs.{i}.conv.module.weight", where).shape[0]) for i in range(3)]
    in_ch = int(_get(sd, "ConvAttLIFs.0.conv.module.weight", where).shape[1])
    fc1 = _get(sd, "FCs.0.linear.module.weight", where)
    if input_size is None:
        side = math.isqrt(fc1.shape[1] // widths[2]) * 4
        input_size = (side, side)
    h, w = (int(s) for s in input_size)
    if widths[2] * (h // 4) * (w // 4) != fc1.shape[1]:
        raise SnncError(f"{where}: FC1 takes {fc1.shape[1]} inputs, conv output is {widths[2]}x{h // 4}x{w // 4}")

    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.array([in_ch, h, w], dtype=np.int64))}
    edges: list[tuple[str, str]] = []
    state = {"src": "input", "shape": (in_ch, h, w)}

    def add(name: str, node: nir.NIRNode) -> None:
        nodes[name] = node
        edges.append((state["src"], name))
        state["shape"] = output_shape(name, node, state["shape"])
        state["src"] = name

    for i in range(3):
        p = f"ConvAttLIFs.{i}"
        wt = _get(sd, f"{p}.conv.module.weight", where)
        add(f"b{i}_conv", nir.Conv2d(input_shape=np.array(state["shape"][1:]), weight=np.ascontiguousarray(wt.transpose(0, 1, 3, 2)),
                                     stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1,
                                     bias=_get(sd, f"{p}.conv.module.bias", where)))
        if f"{p}.bn.module.weight" in sd:
            if f"{p}.bn.module.running_mean" not in sd:
                raise SnncError(f"{where}: {p}.bn has no running statistics (trained with track_running_stats=False)")
            add(f"b{i}_bn", ext.BatchNorm(*(_get(sd, f"{p}.bn.module.{k}", where)
                                            for k in ("running_mean", "running_var", "weight", "bias")),
                                          eps=1e-5, shape=np.array(state["shape"])))
        if POOL_KERNELS[i] > 1:
            k = np.array([POOL_KERNELS[i]] * 2)
            add(f"b{i}_pool", nir.AvgPool2d(kernel_size=k, stride=k.copy(), padding=np.array([0, 0])))
        if attention == "asa":
            if reduction == 1:
                fc_a, fc_b = _get(sd, f"{p}.attn.fc.weight", where), np.zeros((0, 0), dtype=np.float32)
            else:
                fc_a, fc_b = _get(sd, f"{p}.attn.fc.0.weight", where), _get(sd, f"{p}.attn.fc.2.weight", where)
            c = state["shape"][0]
            add(f"b{i}_attn", ext.ASA(
                alpha=_get(sd, f"{p}.attn.alpha", where), gamma=_get(sd, f"{p}.attn.beta", where), fc1=fc_a, fc2=fc_b,
                conv1=np.ascontiguousarray(_get(sd, f"{p}.attn.conv1.weight", where).transpose(0, 1, 3, 2)),
                conv2=np.ascontiguousarray(_get(sd, f"{p}.attn.conv2.weight", where).transpose(0, 1, 3, 2)),
                T=T, reduction=reduction, lam=lam, k_c=int(c * lam), k_t=int(T * lam), shape=np.array(state["shape"])))
        add(f"b{i}_lif", lif_node(beta, 1.0, v_th, state["shape"], dt))
    c3, y3, x3 = state["shape"]
    add("b3_flatten", nir.Flatten(input_type={"input": np.array(state["shape"])}, start_dim=0, end_dim=-1))
    # released FC1 columns are in (C, X, Y) order; ours are (C, Y, X)
    w1 = np.ascontiguousarray(fc1.reshape(fc1.shape[0], c3, x3, y3).transpose(0, 1, 3, 2).reshape(fc1.shape[0], -1))
    add("b3_fc", nir.Affine(weight=w1, bias=_get(sd, "FCs.0.linear.module.bias", where)))
    add("b3_lif", lif_node(beta, 1.0, v_th, state["shape"], dt))
    add("b4_fc", nir.Affine(weight=_get(sd, "FCs.1.linear.module.weight", where), bias=_get(sd, "FCs.1.linear.module.bias", where)))
    add("b4_lif", lif_node(beta, 1.0, v_th, state["shape"], dt))
    nodes["output"] = nir.Output(output_type=np.array(state["shape"]))
    edges.append((state["src"], "output"))
    config = {"model": "lif-snn-3", "attention": attention, "T": T, "in_channels": in_ch, "input_size": [h, w],
              "num_classes": int(state["shape"][0]), "widths": widths, "fc_hidden": int(fc1.shape[0]),
              "reduction": reduction, "lam": lam, "v_th": v_th, "beta": beta, "dropout": 0.0}
    extra = {"released": {"source": REPO, "frame_layout": "TPXY", "transposed": True,
                          "note": "graph input is (C, H=y, W=x): released [P, X, Y] frames transposed on X, Y"}}
    return infer_shapes(make_graph(nodes, edges, graph_metadata(T=T, readout={"kind": "mean"}, model=config, dt=dt, extra=extra)))
