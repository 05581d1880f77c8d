r"""Float lowerings: one IR node at one timestep -> ONNX ops (float32 signals of shape [N, *shape]).

Synapses and pools follow PyTorch semantics (the CPU simulator's): ``Affine`` y = x Wᵀ + b (Gemm),
``Linear`` y = x Wᵀ, ``Conv2d`` (Conv, explicit pads), ``SumPool2d`` (depthwise Conv of ones: an
exact sum), ``AvgPool2d`` (AveragePool, zero padding counted), ``MaxPool2d`` (MaxPool), ``Flatten``
(Reshape), ``Scale`` (Mul), ``BatchNorm`` (γ (x − μ)/√(σ² + ε) + β). Neurons are in
:mod:`snnc.backends.onnx.neurons`.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.backends.onnx.builder import OnnxBuilder
from snnc.compiler.ir.shapes import pair
from snnc.errors import UnsupportedNodeError

F32 = np.float32


def conv_pads(node: nir.Conv2d, kernel: tuple[int, int]) -> list[int]:
    """ONNX pads [top, left, bottom, right] of a NIR Conv2d (int, pair, 'same' or 'valid')."""
    if isinstance(node.padding, str):
        if node.padding == "valid":
            return [0, 0, 0, 0]
        d = pair(node.dilation)
        total = [d[i] * (kernel[i] - 1) for i in range(2)]
        lo = [t // 2 for t in total]
        return [lo[0], lo[1], total[0] - lo[0], total[1] - lo[1]]
    p = pair(node.padding)
    return [p[0], p[1], p[0], p[1]]


def affine(b: OnnxBuilder, name: str, node, x: str) -> str:
    w = np.asarray(node.weight, F32)
    bias = np.asarray(node.bias, F32) if hasattr(node, "bias") else np.zeros(w.shape[0], F32)
    return b.op("Gemm", [x, b.const(w, F32, f"{name}_w"), b.const(bias, F32, f"{name}_b")], hint=name, transB=1)


def linear(b: OnnxBuilder, name: str, node, x: str) -> str:
    w = np.asarray(node.weight, F32)
    return b.op("MatMul", [x, b.const(np.ascontiguousarray(w.T), F32, f"{name}_wT")], hint=name)


def conv2d(b: OnnxBuilder, name: str, node: nir.Conv2d, x: str) -> str:
    w = np.asarray(node.weight, F32)
    kernel = (int(w.shape[2]), int(w.shape[3]))
    bias = np.asarray(node.bias, F32).reshape(-1)
    return b.op("Conv", [x, b.const(w, F32, f"{name}_w"), b.const(bias, F32, f"{name}_b")], hint=name,
                kernel_shape=list(kernel), strides=list(pair(node.stride)), dilations=list(pair(node.dilation)),
                pads=conv_pads(node, kernel), group=int(np.asarray(node.groups).reshape(-1)[0]))


def sumpool(b: OnnxBuilder, name: str, node, x: str, channels: int) -> str:
    k, s, p = pair(node.kernel_size), pair(node.stride), pair(node.padding)
    ones = np.ones((channels, 1, k[0], k[1]), F32)
    return b.op("Conv", [x, b.const(ones, F32, f"{name}_ones")], hint=name, kernel_shape=list(k), strides=list(s),
                pads=[p[0], p[1], p[0], p[1]], group=channels)


def avgpool(b: OnnxBuilder, name: str, node, x: str) -> str:
    k, s, p = pair(node.kernel_size), pair(node.stride), pair(node.padding)
    return b.op("AveragePool", [x], hint=name, kernel_shape=list(k), strides=list(s), pads=[p[0], p[1], p[0], p[1]],
                count_include_pad=1)


def maxpool(b: OnnxBuilder, name: str, node, x: str) -> str:
    k, s, p = pair(node.kernel_size), pair(node.stride), pair(node.padding)
    return b.op("MaxPool", [x], hint=name, kernel_shape=list(k), strides=list(s), pads=[p[0], p[1], p[0], p[1]])


def flatten(b: OnnxBuilder, name: str, out_shape: tuple[int, ...], x: str) -> str:
    return b.op("Reshape", [x, b.const([-1, *out_shape], np.int64, f"{name}_shape")], hint=name)


def scale(b: OnnxBuilder, name: str, node, x: str) -> str:
    return b.op("Mul", [x, b.const(np.asarray(node.scale, F32), F32, f"{name}_s")], hint=name)


def batchnorm(b: OnnxBuilder, name: str, node, x: str, ndim: int) -> str:
    """γ (x − μ) / √(σ² + ε) + β per channel (axis 1 of [N, C, ...])."""
    shp = (-1,) + (1,) * (ndim - 1)
    mean = np.asarray(node.running_mean, F32).reshape(shp)
    std = np.sqrt(np.asarray(node.running_var, F32) + F32(node.eps)).reshape(shp)
    gamma, beta = np.asarray(node.weight, F32).reshape(shp), np.asarray(node.bias, F32).reshape(shp)
    y = b.op("Sub", [x, b.const(mean, F32, f"{name}_mean")])
    y = b.op("Div", [y, b.const(std, F32, f"{name}_std")])
    y = b.op("Mul", [y, b.const(gamma, F32, f"{name}_gamma")])
    return b.op("Add", [y, b.const(beta, F32, f"{name}_beta")], hint=name)


def timegain(b: OnnxBuilder, name: str, node, x: str, step: str) -> str:
    """y = gain[step] ⊙ x: ``step`` is the int64 source-step index (a scalar value name)."""
    g = b.op("Gather", [b.const(np.asarray(node.gain, F32), F32, f"{name}_gain"), step], hint=f"{name}_g", axis=0)
    return b.op("Mul", [x, g], hint=name)


def refuse(name: str, kind: str, why: str) -> UnsupportedNodeError:
    return UnsupportedNodeError(f"onnx target: node {name!r} ({kind}) {why}")
