"""Event-driven conv2d for spike frames: a C++ kernel (``csrc/event_conv.cpp``) compiled on first use.

For a frame x [C_in, H, W] whose inputs are mostly zero (spikes), the convolution is computed from the
active inputs only:

    y[co, oy, ox] = b[co] + Σ_{taps (ky, kx)} Σ_{c: x[c, iy, ix] ≠ 0} x[c, iy, ix] · W[co, c, ky, kx],
                    iy = oy·s − p + ky·d,  ix = ox·s − p + kx·d,

i.e. ≈ density × the dense work. The events of a frame are listed once (AVX2 compare + left-pack), sorted by
input position, and for every tap and output position the weight rows of the active channels are added into
the position's C_out sums held in AVX registers (blocks of ≤ 128 channels whose one-tap weight slab stays in
L1). The order of the sums is fixed by the shapes and the data (taps ascending; channels ascending, in two
interleaved partial sums on the AVX2 path), and each frame is computed by one thread: results are
bit-identical run to run and for any thread count. It differs from ``F.conv2d``'s order, so float32 results
agree to rounding only; with integer-valued weights and inputs the sums are exact integers (below 2^24 in
float32, 2^53 in float64) and equal ``F.conv2d`` exactly. Binary frames add the weights themselves; other
frames (event counts, residual sums) add x · W.

The extension is built lazily with ``torch.utils.cpp_extension.load`` (gcc + ninja, no network, ~35 s once)
into torch's extension cache (``TORCH_EXTENSIONS_DIR`` or ~/.cache/torch_extensions) the first time
:func:`extension` is called — never at import. If the build fails, :func:`extension` returns None after ONE
warning and callers use the dense ``F.conv2d``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from snnc.native import NativeKernel

KERNEL = NativeKernel("snnc_event_conv", Path(__file__).resolve().parent / "csrc" / "event_conv.cpp",
                      "event-driven convolution unavailable, using dense conv2d")
#: the compiled extension module, or None (after one warning) if it cannot be built here
extension = KERNEL.extension


def _side_padding(padding, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Leading padding per axis; ``"same"`` pads d·(k − 1) in total, the smaller half first (as torch)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return int(padding[0]), int(padding[1])


class EventConv2d:
    """``F.conv2d(x, weight, bias, stride, padding, dilation, groups)`` computed from the non-zero inputs.

    ``__call__(x, max_density)`` returns the output [F, C_out, H_out, W_out], or None when the extension is
    unavailable or more than ``max_density`` of x's entries are non-zero (the caller then runs dense).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, stride: tuple[int, int], padding,
                 dilation: tuple[int, int], groups: int) -> None:
        c_out, cig, kh, kw = weight.shape
        self.groups, self.c_out = int(groups), int(c_out)
        self.kernel, self.stride, self.dilation = (int(kh), int(kw)), tuple(map(int, stride)), tuple(map(int, dilation))
        if isinstance(padding, str) and padding == "same":
            self.total_pad = tuple(d * (k - 1) for k, d in zip(self.kernel, self.dilation))
        else:
            p = (0, 0) if padding == "valid" else tuple(map(int, padding))
            self.total_pad = (2 * p[0], 2 * p[1])
        self.pad = _side_padding(padding, self.kernel, self.dilation)
        self.weight = weight.contiguous()
        self._blocked: torch.Tensor | None = None  # the kernel's weight layout, made on the first call
        self.bias = bias.contiguous() if bias is not None else torch.empty(0, dtype=weight.dtype)

    def out_size(self, h: int, w: int) -> tuple[int, int]:
        return tuple((n + tp - d * (k - 1) - 1) // s + 1
                     for n, tp, k, d, s in zip((h, w), self.total_pad, self.kernel, self.dilation, self.stride))

    def __call__(self, x: torch.Tensor, max_density: float = math.inf) -> torch.Tensor | None:
        ext = extension()
        if ext is None:
            return None
        x = x.contiguous()
        if x.dtype != self.weight.dtype:
            raise TypeError(f"event conv: input dtype {x.dtype} != weight dtype {self.weight.dtype}")
        h_out, w_out = self.out_size(x.shape[2], x.shape[3])
        if x.shape[0] == 0:
            return torch.empty((0, self.c_out, h_out, w_out), dtype=x.dtype)
        if self._blocked is None:
            self._blocked = ext.block_weights(self.weight, self.groups)
        y = ext.event_conv2d(x, self.weight, self._blocked, self.bias, list(self.stride), list(self.pad),
                             list(self.dilation), self.groups, h_out, w_out, float(min(max_density, 2.0)))
        return y  # None: too dense (undefined tensor from C++)


def event_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride=1, padding=0,
                 dilation=1, groups: int = 1) -> torch.Tensor:
    """One-shot functional form with ``F.conv2d``'s arguments (dense fallback if the extension is missing)."""
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    pad = padding if isinstance(padding, str) else pair(padding)
    y = EventConv2d(weight, bias, pair(stride), pad, pair(dilation), groups)(x)
    return y if y is not None else F.conv2d(x, weight, bias, stride, padding, dilation, groups)
