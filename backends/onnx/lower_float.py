r"""Float lowerings: one IR node at one timestep -> ONNX ops (float32 signals of shape [N, *shape]).

Synapses and pools follow PyTorch semantics (the CPU simulator's): ``Affine`` y = x Wᵀ + b (Gemm),
``Linear`` y = x Wᵀ, ``Conv2d`` (Conv, explicit pads), ``SumPool2d`` (depthwise Conv of ones: an
exact sum), ``AvgPool2d`` (AveragePool, zero padding counted), ``MaxPool2d`` (MaxPool), ``Flatten``
(Reshape), ``Scale`` (Mul), ``BatchNorm`` (per-channel multiply-add in PyTorch's order, :func:`batchnorm`). Neurons are in
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
    """Inference BatchNorm per channel (axis 1 of [N, C, ...], ``ndim`` = rank with the batch axis), in
    the order PyTorch's CPU kernel uses (so it is bit-identical to ``F.batch_norm`` and to the CPU simulator;
    measured on torch 2.13, AVX2 ``fmadd``):

        α = float32(float32(1/√(σ² + ε))·γ);  β' = fma(−μ, α, β);  y = fma(x, α, β')

    A float32 fma is computed as a float64 multiply-add rounded once to float32 (the product of two float32
    values is exact in float64)."""
    f64 = np.float64
    shp = (-1,) + (1,) * (ndim - 2)
    var, eps = np.asarray(node.running_var, F32), F32(node.eps)
    inv = (F32(1) / np.sqrt(var + eps)).astype(F32)
    alpha = (inv * np.asarray(node.weight, F32)).astype(F32)
    beta = (np.asarray(node.bias, F32).astype(f64)
            - np.asarray(node.running_mean, F32).astype(f64) * alpha.astype(f64)).astype(F32)
    y = b.op("Mul", [b.op("Cast", [x], to=11), b.const(alpha.reshape(shp), f64, f"{name}_alpha")])
    y = b.op("Add", [y, b.const(beta.reshape(shp), f64, f"{name}_beta")])
    return b.op("Cast", [y], hint=name, to=1)


def timegain(b: OnnxBuilder, name: str, node, x: str, step: str) -> str:
    """y = gain[step] ⊙ x: ``step`` is the int64 source-step index (a scalar value name)."""
    g = b.op("Gather", [b.const(np.asarray(node.gain, F32), F32, f"{name}_gain"), step], hint=f"{name}_g", axis=0)
    return b.op("Mul", [x, g], hint=name)


def refuse(name: str, kind: str, why: str) -> UnsupportedNodeError:
    return UnsupportedNodeError(f"onnx target: node {name!r} ({kind}) {why}")
