"""Convolutions of spike frames in training, with an event-driven weight gradient (``csrc/spike_conv_grad.cpp``).

The inputs of a spiking network's convolutions are spikes: at the paper's size conv2 and conv3 read 1–25 %
non-zero frames. The weight gradient ``dW = Σ_f x_f ⋆ g_f`` over those inputs only costs that fraction of the
dense ``conv2d_weight``, a third of the network's convolution work in a training step. Within
:func:`event_weight_grad` every :class:`~snnc.models.blocks.ConvBlock`'s convolution (groups 1, zero padding,
CPU float32, weights that need a gradient) runs as :class:`_SpikeConv`:

- forward: ``F.conv2d`` itself, so the spikes are those of the dense path bit for bit;
- backward: the input gradient by ``aten.convolution_backward`` (the dense kernel autograd calls), the weight
  gradient by the C++ kernel when at most :data:`MAX_DENSITY` of the inputs are non-zero (otherwise dense).

The kernel sums the same products in another order than mkldnn's: the weight gradients equal autograd's to
float32 rounding (``tests/models/test_spike_conv_grad.py``: relative error ≤ 1e-5 of the gradient's scale),
not bit for bit, so a training run that uses it diverges from the dense one by rounding, like any change of
summation order; it stays bit-reproducible (the kernel's order depends on the shapes and the data alone, not
the thread count). Outside the block, and when the kernel cannot be built (one warning), autograd's dense
convolution: the default trainer stays bit-identical to autograd.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from snnc.native import NativeKernel

KERNEL = NativeKernel("snnc_spike_conv_grad", Path(__file__).resolve().parent / "csrc" / "spike_conv_grad.cpp",
                      "event-driven weight gradient unavailable, using the dense gradient")
#: the compiled kernel module, or None (after one warning) if it cannot be built here
extension = KERNEL.extension
#: above this fraction of non-zero inputs the dense weight gradient is faster
MAX_DENSITY = 0.3
#: the weight-gradient modes of the trainer: "exact" (autograd's dense convolution) or "event"
WEIGHT_GRADS = ("exact", "event")

_mode = {"event": False}


@contextlib.contextmanager
def event_weight_grad(on: bool = True):
    """Within this block (when ``on``), ConvBlock convolutions compute their weight gradient event-driven."""
    before = _mode["event"]
    _mode["event"] = bool(on)
    try:
        yield
    finally:
        _mode["event"] = before


def _pair(v) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(a) for a in v]


class _SpikeConv(torch.autograd.Function):
    """``F.conv2d`` forward; dense input gradient, event-driven weight gradient (module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation):  # type: ignore[override]
        ctx.save_for_backward(x, weight)
        ctx.geometry = (stride, padding, dilation, bias is not None)
        return F.conv2d(x, weight, bias, stride, padding, dilation)

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        stride, padding, dilation, has_bias = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = g.contiguous()
        gw = None
        if need_w:
            gw = extension().weight_grad(x.contiguous(), g, weight.shape[2], weight.shape[3], stride, padding,
                                         dilation, MAX_DENSITY)
        dense_w = bool(need_w and gw is None)
        # the bias gradient by a sum of its own unless mkldnn computes the weight's: asked for the input's and
        # the bias's alone, convolution_backward takes a path ~2x slower than all three
        mask = [bool(need_x), dense_w, bool(need_b and has_bias and dense_w)]
        gx = gb = None
        if any(mask):
            gx, gw_dense, gb = torch.ops.aten.convolution_backward(
                g, x, weight, [weight.shape[0]] if has_bias else None, stride, padding, dilation, False, [0, 0], 1,
                mask)
            gw = gw if gw is not None else gw_dense
        if need_b and has_bias and gb is None:
            gb = g.sum((0, 2, 3))
        return (gx if need_x else None), (gw if need_w else None), (gb if need_b else None), None, None, None


def applies(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    """Whether :func:`conv2d` runs ``conv`` on x through :class:`_SpikeConv`."""
    return (_mode["event"] and torch.is_grad_enabled() and conv.weight.requires_grad and conv.groups == 1
            and conv.padding_mode == "zeros" and not isinstance(conv.padding, str) and x.dim() == 4
            and x.dtype == torch.float32 and x.device.type == "cpu" and conv.weight.dtype == torch.float32
            and extension() is not None)


def conv2d(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """``conv(x)`` on frames x [F, C, H, W]; with an event-driven weight gradient inside :func:`event_weight_grad`."""
    if not applies(conv, x):
        return conv(x)
    return _SpikeConv.apply(x, conv.weight, conv.bias, _pair(conv.stride), _pair(conv.padding),
                            _pair(conv.dilation))
