"""Stateless per-frame kernels of the reference simulator (float and fixed point).

Every kernel maps frames ``x`` of shape [F, *in_shape] (F = frames: batch and time folded
together) to [F, *out_shape]. They call the same torch functions, with the same arguments, as the
snnc PyTorch models, so float32 results are bit-identical to the model's:

- ``Conv2d``:   ``F.conv2d(x, W, b, stride, padding, dilation, groups)``
- ``Affine``:   ``F.linear(x, W, b)``;  ``Linear``: ``F.linear(x, W)``
- ``BatchNorm``: ``F.batch_norm(x, mean, var, gamma, beta, False, 0.1, eps)`` (inference form)
- ``AvgPool2d``: ``F.avg_pool2d`` (count_include_pad); ``SumPool2d``: the same with divisor 1
- ``MaxPool2d``: ``F.max_pool2d``; ``Scale``: x · s; ``Flatten``: reshape of the per-step dims

``conv`` (``run(..., conv=...)``) selects how a ``Conv2d`` is computed: ``"dense"`` (the default, the call
above), ``"event"`` (:mod:`snnc.backends.cpu.event_conv`: only the non-zero inputs are scattered through the
weights; float32 sums in another order, so equal to ``F.conv2d`` up to rounding; exact for integer-valued
weights and inputs, hence also for fixed point, where the 24-bit wrap is applied after) or ``"auto"`` (float
graphs: event for convs with a fan-in of at least ``AUTO_MIN_FAN_IN`` whenever at most ``AUTO_MAX_DENSITY`` of
the call's inputs are non-zero — counted in the kernel's first pass — else dense). Fixed point: float32 where
that is provably exact (:mod:`snnc.backends.cpu.fixed_conv`; ``conv`` picks the float32 kernel the same way,
every choice gives the same integers), else float64.
Event-capable conv kernels are marked ``whole_batch``: the simulator calls them once on all frames (no
per-chunk copy into the output). The extension is compiled on first use; if that fails, dense with one warning.

Fixed point: values are integers held in float64 (exact while sums stay below 2^53); a
``Conv2d``'s output **wraps** into signed 24 bits as Lava's ``PyConvModelFixed`` does (its
``signed_clamp`` is a modulo): :func:`snnc.compiler.fixed_point.conv_output_clamp`, the one definition.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import nir
import torch
import torch.nn.functional as F

from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.ir.kinds import DENSE_KINDS
from snnc.compiler.ir.shapes import pair

CONV_LIMIT = 2**23 - 1  # Lava Conv fixed: outputs outside [−2^23, 2^23) wrap (fixed_point.conv_output_clamp)

Kernel = Callable[[torch.Tensor], torch.Tensor]


def _tensor(a, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=dtype)


def _padding(node: nir.NIRNode):
    p = node.padding
    if isinstance(p, str):
        return p
    return pair(p)


def _int(v) -> int:
    return int(np.asarray(v).reshape(-1)[0])


CONV_MODES = ("dense", "event", "auto")
#: ``conv="auto"``: event-driven when at most this fraction of the call's conv inputs are non-zero. Measured
#: (docs/notes/perf.md): the event kernel is still ~1.5× faster than MKL-DNN's dense conv2d at 40 % on
#: LIF-SNN-3's conv2/conv3.
AUTO_MAX_DENSITY = 0.3
#: ``conv="auto"``: ... and only when each output sums at least this many inputs (C_in/groups · kh · kw); below
#: it the output writes dominate and dense wins (LIF-SNN-3's first conv, 2·3·3 = 18: dense 3.0 ms vs event
#: 5.0 ms per sample on one thread; conv2/conv3, 1024 and 2048: event ~3× faster).
AUTO_MIN_FAN_IN = 64


def conv_kernel(node: nir.Conv2d, dtype: torch.dtype, fixed: bool, channels_last: bool = False,
                conv: str = "dense") -> Kernel:
    w = _tensor(node.weight, dtype)
    b = _tensor(node.bias, dtype) if node.bias is not None else None
    if b is not None and not torch.any(b) and fixed:
        b = None
    stride, pad, dil, groups = pair(node.stride), _padding(node), pair(node.dilation), _int(node.groups)
    event = None
    fan_in = int(np.prod(w.shape[1:]))
    max_density = float("inf") if conv == "event" else AUTO_MAX_DENSITY
    if fixed and not channels_last:
        return _fixed_conv_kernel(w, b, (stride, pad, dil, groups), conv, fan_in, max_density)
    if conv == "event" or (conv == "auto" and not fixed and dtype == torch.float32 and fan_in >= AUTO_MIN_FAN_IN):
        from snnc.backends.cpu.event_conv import EventConv2d

        event = EventConv2d(w, b, stride, pad, dil, groups)
    if channels_last:
        w = w.contiguous(memory_format=torch.channels_last)

    def run(x: torch.Tensor) -> torch.Tensor:
        y = event(x, max_density) if event is not None else None
        if y is None:  # dense: conv="dense", too many non-zero inputs for "auto", or no extension
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = F.conv2d(x, w, b, stride, pad, dil, groups)
        return _conv_wrap24(y) if fixed else y

    run.whole_batch = event is not None  # the simulator may pass all frames at once (no chunking needed)
    return run


def _fixed_conv_kernel(w: torch.Tensor, b: torch.Tensor | None, args: tuple, conv: str, fan_in: int,
                       max_density: float) -> Kernel:
    """A fixed-point conv: in float32 where exact (:mod:`snnc.backends.cpu.fixed_conv`; event-driven under
    ``conv="event"``, or ``"auto"`` with a fan-in of at least ``AUTO_MIN_FAN_IN``), else the float64
    ``F.conv2d``; the 24-bit wrap after. Every path gives the same integers."""
    from snnc.backends.cpu.fixed_conv import Float32Twin

    event_ok = conv == "event" or (conv == "auto" and fan_in >= AUTO_MIN_FAN_IN)
    twin = Float32Twin(w, b, *args, event_ok=event_ok, max_density=max_density)

    def run(x: torch.Tensor) -> torch.Tensor:
        got = twin.run(x)
        return _conv_wrap24(F.conv2d(x, w, b, *args)) if got is None else _conv_wrap24(*got)

    run.whole_batch = twin.event is not None
    return run


def _conv_wrap24(y: torch.Tensor, lo: float | None = None, hi: float | None = None) -> torch.Tensor:
    """Lava's fixed Conv output (int32 cast, then wrap into [−2^23, 2^23)) via
    :func:`snnc.compiler.fixed_point.conv_output_clamp`; y holds exact integers in float64, ``lo``/``hi`` its
    range when known."""
    if y.numel() == 0:
        return y
    if lo is None or hi is None:
        lo, hi = float(y.min()), float(y.max())
    if hi <= CONV_LIMIT and lo >= -CONV_LIMIT - 1:
        return y  # nothing to wrap (the common case): skip the int64 round trip
    from snnc.compiler.fixed_point import conv_output_clamp

    wrapped = conv_output_clamp(np.rint(y.numpy()).astype(np.int64))
    return torch.from_numpy(wrapped.astype(np.float64)).to(y.dtype)


def affine_kernel(node: nir.NIRNode, dtype: torch.dtype) -> Kernel:
    w = _tensor(node.weight, dtype)
    b = _tensor(node.bias, dtype) if node_kind(node) == "Affine" else None

    def run(x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.reshape(x.shape[0], -1), w, b)

    return run


def batchnorm_kernel(node, dtype: torch.dtype) -> Kernel:
    mean, var = _tensor(node.running_mean, dtype), _tensor(node.running_var, dtype)
    gamma, beta = _tensor(node.weight, dtype), _tensor(node.bias, dtype)
    eps = float(node.eps)

    def run(x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, mean, var, gamma, beta, False, 0.1, eps)

    return run


def pool_kernel(node: nir.NIRNode) -> Kernel:
    kind = node_kind(node)
    k, s, p = pair(node.kernel_size), pair(node.stride), pair(node.padding)
    if kind == "MaxPool2d":
        return lambda x: F.max_pool2d(x, k, s, p)
    if kind == "AvgPool2d":
        return lambda x: F.avg_pool2d(x, k, s, p)
    return lambda x: F.avg_pool2d(x, k, s, p, divisor_override=1)  # SumPool2d


def scale_kernel(node: nir.Scale, dtype: torch.dtype) -> Kernel:
    s = _tensor(node.scale, dtype)
    return lambda x: x * s


def flatten_kernel(node: nir.Flatten, out_shape: tuple[int, ...]) -> Kernel:
    return lambda x: x.reshape(x.shape[0], *out_shape)


#: node kinds handled per frame (no state, no time axis)
FRAME_KINDS = ("Conv2d", "Affine", "Linear", "BatchNorm", "AvgPool2d", "SumPool2d", "MaxPool2d", "Scale", "Flatten")


def frame_kernel(node: nir.NIRNode, out_shape: tuple[int, ...], dtype: torch.dtype, fixed: bool,
                 channels_last: bool = False, conv: str = "dense") -> Kernel:
    """The per-frame function of a stateless node (see the module docstring)."""
    kind = node_kind(node)
    if kind == "Conv2d":
        return conv_kernel(node, dtype, fixed, channels_last, conv)
    if kind in DENSE_KINDS:
        return affine_kernel(node, dtype)
    if kind == "BatchNorm":
        return batchnorm_kernel(node, dtype)
    if kind in ("AvgPool2d", "SumPool2d", "MaxPool2d"):
        return pool_kernel(node)
    if kind == "Scale":
        return scale_kernel(node, dtype)
    if kind == "Flatten":
        return flatten_kernel(node, out_shape)
    raise ValueError(f"no frame kernel for {kind}")
