"""A fixed-point ``Conv2d`` computed in float32 where that is provably exact.

Fixed-point graphs carry integers in float64 (docs/design.md §5). A conv of integer weights W and integer
inputs x has integer partial sums whatever the order of the additions, and each is bounded by

    B = max_co (Σ_{ci, ky, kx} |W[co, ci, ky, kx]| · max|x| + |b[co]|).

Float32 holds every integer of magnitude ≤ 2^24 exactly, so when B < 2^24 every product and every partial
sum of any summation order (MKL-DNN's direct or GEMM conv, the event-driven kernel's scatter) is exact, and
the float32 result equals the float64 one bit for bit after widening. Winograd or FFT convolutions would
break this (their transforms divide); torch's CPU conv2d uses neither for these shapes, and
``tests/backends/cpu/test_fixed_conv.py`` checks the equality against the float64 conv on random integer
layers, including inputs at the bound.

:class:`Float32Twin` returns None whenever the premise fails — non-integer weights or bias (set at
construction), a non-integer input or ``B ≥ 2^24`` (checked per call) — and the caller runs the float64
conv (always, within :func:`disabled`). The 24-bit wrap of Lava's fixed Conv (``ops._conv_wrap24``) is applied afterwards either way.
Which float32 kernel runs only changes the speed: event-driven when the frames are sparse and the fan-in
large (:data:`snnc.backends.cpu.ops.AUTO_MAX_DENSITY`, ``AUTO_MIN_FAN_IN``), else ``F.conv2d``.

The conversions around it are one pass each (``csrc/fixed_cast.cpp``): float64 → float32 with the integrality
check and max|x| on the way, float32 → float64 with the output's range for the wrap check. Without that kernel
(or within :func:`disabled`), :meth:`Float32Twin.exact_for` and torch's casts, the same results.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from snnc.native import NativeKernel, switched_off

#: float32 represents every integer of magnitude at most this exactly (24-bit significand)
FLOAT32_EXACT = float(2**24)


_state: dict = {"enabled": True}

CASTS = NativeKernel("snnc_fixed_cast", Path(__file__).resolve().parent / "csrc" / "fixed_cast.cpp",
                     "one-pass fixed-point casts unavailable, using torch's")
#: within this block the twin converts with torch (the oracle of the one-pass casts)
casts_disabled = CASTS.disabled


def disabled():
    """Within this block every fixed-point conv runs in float64 (the oracle of the float32 twin)."""
    return switched_off(_state)


def _integral(t: torch.Tensor) -> bool:
    return bool(torch.equal(t, torch.trunc(t))) and bool(torch.isfinite(t).all())


class Float32Twin:
    """The float64 integer conv ``F.conv2d(x, w, b, stride, pad, dil, groups)`` in float32 (module docstring).

    ``__call__(x)`` returns the float64 result, or None when exactness cannot be shown for this call."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor | None, stride, pad, dil, groups: int,
                 event_ok: bool, max_density: float) -> None:
        self.ok = _integral(w) and (b is None or _integral(b))
        self.w = w.to(torch.float32)
        self.b = None if b is None else b.to(torch.float32)
        self.args = (stride, pad, dil, groups)
        per_out = w.abs().reshape(w.shape[0], -1).sum(dim=1) if w.numel() else torch.zeros(w.shape[0], dtype=w.dtype)
        self.row_max = float(per_out.max()) if per_out.numel() else 0.0
        self.bias_max = 0.0 if b is None or b.numel() == 0 else float(b.abs().max())
        self.max_density = max_density
        self.event = None
        if self.ok and event_ok:
            from snnc.backends.cpu.event_conv import EventConv2d

            self.event = EventConv2d(self.w, self.b, stride, pad, dil, groups)

    def exact_for(self, x: torch.Tensor) -> bool:
        """Whether every partial sum of the conv of x is an integer below 2^24 in magnitude."""
        if not self.ok or not _state["enabled"]:
            return False
        if x.numel() == 0:
            return True
        lo, hi = torch.aminmax(x)  # one pass, no |x| temporary
        if not self._bounded(max(-float(lo), float(hi))):
            return False
        return bool(torch.equal(x, torch.trunc(x)))

    def _bounded(self, peak: float) -> bool:
        return math.isfinite(peak) and peak * self.row_max + self.bias_max < FLOAT32_EXACT

    def _narrow(self, x: torch.Tensor) -> torch.Tensor | None:
        """float32 x if the conv of x is exact in float32 (:meth:`exact_for`), else None."""
        if not self.ok or not _state["enabled"]:
            return None
        ext = CASTS.extension() if CASTS.enabled() and x.numel() and x.dtype == torch.float64 else None
        if ext is None or not x.is_contiguous():
            return x.to(torch.float32) if self.exact_for(x) else None
        x32 = torch.empty(x.shape, dtype=torch.float32)
        peak = ext.narrow(x, x32)
        return x32 if peak >= 0.0 and self._bounded(peak) else None

    def run(self, x: torch.Tensor) -> tuple[torch.Tensor, float, float] | None:
        """(the float64 result, its min, its max), or None when exactness cannot be shown for this call."""
        x32 = self._narrow(x)
        if x32 is None:
            return None
        y = self.event(x32, self.max_density) if self.event is not None else None
        if y is None:
            y = F.conv2d(x32, self.w, self.b, *self.args)
        ext = CASTS.extension() if CASTS.enabled() and y.numel() and y.is_contiguous() else None
        if ext is None:
            y64 = y.to(torch.float64)
            return (y64, float(y64.min()), float(y64.max())) if y64.numel() else (y64, 0.0, 0.0)
        y64 = torch.empty(y.shape, dtype=torch.float64)
        lo, hi = ext.widen(y, y64)
        return y64, lo, hi

    def __call__(self, x: torch.Tensor) -> torch.Tensor | None:
        """The float64 result, or None when exactness cannot be shown for this call."""
        got = self.run(x)
        return None if got is None else got[0]
