"""An snnc PyTorch network (``snnc.models``) -> the snnc IR, by walking ``model.blocks``.

Node names follow docs/design.md §3.1: block i gives ``b{i}_inpool``, ``b{i}_conv``, ``b{i}_bn``,
``b{i}_pool``, ``b{i}_attn``, ``b{i}_lif`` (conv blocks) or ``b{i}_inpool``, ``b{i}_flatten``,
``b{i}_fc``, ``b{i}_lif`` (FC blocks). A residual block i gives ``b{i}_inpool`` and the three
conv blocks ``b{i}_conv1_*``, ``b{i}_conv2_*``, ``b{i}_down_*``; its output is the *sum* of
``b{i}_conv2_lif`` and the shortcut, written as several edges into the next consumer.
Weights are copied as float32 (bit-identical to the model's parameters). The model is read in
inference form: BatchNorm uses its running statistics, dropout is ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import nir
from torch import nn

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import make_graph
from snnc.compiler.ir.shapes import infer_shapes, output_shape
from snnc.frontends.common import DEFAULT_DT, f32, graph_metadata, lif_node
from snnc.errors import SnncError


def _pair(v) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, dtype=np.int64), (2,)).copy()


class _Builder:
    """Accumulates nodes and edges; ``src`` is the list of nodes whose outputs are summed."""

    def __init__(self, shape: tuple[int, ...], dt: float) -> None:
        self.nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.asarray(shape, dtype=np.int64))}
        self.edges: list[tuple[str, str]] = []
        self.shape = tuple(shape)
        self.src = ["input"]
        self.dt = dt

    def add(self, name: str, node: nir.NIRNode, src: list[str] | None = None) -> None:
        if name in self.nodes:
            raise SnncError(f"model: duplicate node name {name!r}")
        self.nodes[name] = node
        self.edges += [(s, name) for s in (src if src is not None else self.src)]
        self.shape = output_shape(name, node, self.shape)
        self.src = [name]

    def pool(self, name: str, m: nn.Module) -> None:
        if isinstance(m, nn.MaxPool2d):
            if getattr(m, "ceil_mode", False) or np.any(_pair(m.dilation) != 1):
                raise SnncError(f"model: {name}: MaxPool2d with ceil_mode or dilation is not supported")
            stride = m.stride if m.stride is not None else m.kernel_size
            self.add(name, ext.MaxPool2d(_pair(m.kernel_size), _pair(stride), _pair(m.padding)))
        elif isinstance(m, nn.AvgPool2d):
            padded = np.any(_pair(m.padding) != 0)
            if m.ceil_mode or (padded and not m.count_include_pad) or m.divisor_override is not None:
                raise SnncError(f"model: {name}: AvgPool2d with ceil_mode/divisor/excluded padding is not supported")
            stride = m.stride if m.stride is not None else m.kernel_size
            self.add(name, nir.AvgPool2d(kernel_size=_pair(m.kernel_size), stride=_pair(stride), padding=_pair(m.padding)))
        else:
            raise SnncError(f"model: {name}: unsupported pooling module {type(m).__name__}")

    def conv(self, name: str, m: nn.Conv2d) -> None:
        if m.padding_mode != "zeros":
            raise SnncError(f"model: {name}: Conv2d padding_mode {m.padding_mode!r} is not supported")
        bias = f32(m.bias) if m.bias is not None else np.zeros(m.out_channels, dtype=np.float32)
        padding = m.padding if isinstance(m.padding, str) else tuple(int(p) for p in m.padding)
        self.add(name, nir.Conv2d(input_shape=np.asarray(self.shape[1:], dtype=np.int64), weight=f32(m.weight),
                                  stride=tuple(int(s) for s in m.stride), padding=padding,
                                  dilation=tuple(int(d) for d in m.dilation), groups=int(m.groups), bias=bias))

    def batchnorm(self, name: str, m: nn.BatchNorm2d) -> None:
        if m.running_mean is None or m.running_var is None:
            raise SnncError(f"model: {name}: BatchNorm without running statistics cannot be compiled")
        c = m.num_features
        w = f32(m.weight) if m.weight is not None else np.ones(c, dtype=np.float32)
        b = f32(m.bias) if m.bias is not None else np.zeros(c, dtype=np.float32)
        self.add(name, ext.BatchNorm(f32(m.running_mean), f32(m.running_var), w, b, eps=float(m.eps),
                                     shape=np.asarray(self.shape, dtype=np.int64)))

    def asa(self, name: str, m: nn.Module) -> None:
        def w(sub, empty=(0, 0)):
            return f32(sub.weight if isinstance(sub, nn.Module) else sub) if sub is not None else np.zeros(empty, np.float32)

        self.add(name, ext.ASA(alpha=w(m.alpha, (0,)), gamma=w(m.gamma, (0,)), fc1=w(m.fc1), fc2=w(m.fc2),
                               conv1=f32(m.conv1.weight), conv2=f32(m.conv2.weight), T=int(m.T),
                               reduction=int(m.reduction), lam=float(m.lam), k_c=int(m.k_c), k_t=int(m.k_t),
                               shape=np.asarray(self.shape, dtype=np.int64), squeeze=m.squeeze,
                               excitation=m.excitation, eca=w(m.eca, (0,)).reshape(-1)))

    def multidim_attention(self, name: str, m: nn.Module) -> None:
        weights = {k: (f32(v) if v is not None else np.zeros((0, 0, 0, 0) if k == "spatial" else (0, 0), np.float32))
                   for k, v in m.weights().items()}
        self.add(name, ext.MultiDimAttention(dims=m.dims, T=int(m.T), shape=np.asarray(self.shape, dtype=np.int64),
                                             **weights))

    def lif(self, name: str, m: nn.Module) -> None:
        for attr in ("beta", "gain", "v_th"):
            if not hasattr(m, attr):
                raise SnncError(f"model: {name}: spiking module {type(m).__name__} has no {attr!r}")
        if float(getattr(m, "v_reset", 0.0)) != 0.0:
            raise SnncError(f"model: {name}: only reset to 0 is supported")
        self.add(name, lif_node(m.beta, m.gain, m.v_th, self.shape, self.dt))


def _conv_block(b: _Builder, prefix: str, block: nn.Module) -> None:
    if block.inpool is not None:
        b.pool(f"{prefix}_inpool", block.inpool)
    b.conv(f"{prefix}_conv", block.conv)
    if block.bn is not None:
        b.batchnorm(f"{prefix}_bn", block.bn)
    if block.pool is not None:
        b.pool(f"{prefix}_pool", block.pool)
    if block.attn is not None:
        kind = type(block.attn).__name__
        if kind == "ASA":
            b.asa(f"{prefix}_attn", block.attn)
        elif kind == "MultiDimAttention":
            b.multidim_attention(f"{prefix}_attn", block.attn)
        else:
            raise SnncError(f"model: {prefix}_attn: unsupported attention module {kind}")
    b.lif(f"{prefix}_lif", block.lif)


def _fc_block(b: _Builder, prefix: str, block: nn.Module) -> None:
    if block.inpool is not None:
        b.pool(f"{prefix}_inpool", block.inpool)
    if block.flatten or len(b.shape) > 1:
        b.add(f"{prefix}_flatten", nir.Flatten(input_type={"input": np.asarray(b.shape, dtype=np.int64)},
                                              start_dim=0, end_dim=-1))
    fc = block.fc
    bias = f32(fc.bias) if fc.bias is not None else np.zeros(fc.out_features, dtype=np.float32)
    b.add(f"{prefix}_fc", nir.Affine(weight=f32(fc.weight), bias=bias))
    b.lif(f"{prefix}_lif", block.lif)


def _residual_block(b: _Builder, prefix: str, block: nn.Module) -> None:
    if block.inpool is not None:
        b.pool(f"{prefix}_inpool", block.inpool)
    p_src, p_shape = list(b.src), b.shape
    _conv_block(b, f"{prefix}_conv1", block.conv1)
    _conv_block(b, f"{prefix}_conv2", block.conv2)
    main_src, main_shape = list(b.src), b.shape
    if block.down is not None:
        b.src, b.shape = p_src, p_shape
        _conv_block(b, f"{prefix}_down", block.down)
        shortcut = list(b.src)
    else:
        shortcut = p_src
    short_shape = b.shape if block.down is not None else p_shape
    if short_shape != main_shape:
        raise SnncError(f"model: {prefix}: residual branches have different shapes "
                        f"{list(main_shape)} and {list(short_shape)}")
    b.src, b.shape = main_src + shortcut, main_shape


def model_to_graph(model: nn.Module, input_shape: tuple[int, ...] | None = None, dt: float = DEFAULT_DT) -> nir.NIRGraph:
    """The IR of an snnc network: walks ``model.blocks`` (ConvBlock, FCBlock, ResidualBlock).

    ``input_shape`` (C, H, W) defaults to ``model.config``'s ``in_channels`` and ``input_size``.
    Graph metadata per docs/design.md §3.2 (threshold ">=", reset "zero", T, readout, config).
    """
    config: dict[str, Any] = dict(getattr(model, "config", {}) or {})
    if input_shape is None:
        if "in_channels" not in config or "input_size" not in config:
            raise SnncError("model: no input shape (config lacks in_channels/input_size)")
        input_shape = (int(config["in_channels"]), *(int(s) for s in config["input_size"]))
    blocks = getattr(model, "blocks", None)
    if blocks is None:
        raise SnncError(f"model: {type(model).__name__} has no 'blocks'; not an snnc network")
    b = _Builder(tuple(int(s) for s in input_shape), dt)
    for i, block in enumerate(blocks):
        kind = type(block).__name__
        if kind == "ConvBlock":
            _conv_block(b, f"b{i}", block)
        elif kind == "FCBlock":
            _fc_block(b, f"b{i}", block)
        elif kind == "ResidualBlock":
            _residual_block(b, f"b{i}", block)
        else:
            raise SnncError(f"model: block {i} has unsupported type {kind}")
    b.nodes["output"] = nir.Output(output_type=np.asarray(b.shape, dtype=np.int64))
    b.edges += [(s, "output") for s in b.src]
    readout = getattr(model, "readout", "mean")
    readout_meta = {"kind": "mean"} if readout == "mean" else {"kind": str(readout[0]), "group": int(readout[1])}
    T = int(config.get("T", 1))
    return infer_shapes(make_graph(b.nodes, b.edges, graph_metadata(T=T, readout=readout_meta, model=config or None, dt=dt)))
