"""Fused LIF for training: all T steps forward and backward in one C++ call each (``csrc/lif_train.cpp``).

The step-by-step autograd graph of :meth:`snnc.models.lif.LIF.reference_forward` costs, per layer and step,
~10 small elementwise ops forward and ~15 backward, plus a full-size zero tensor per step for the gradient of
``x[:, t]`` (autograd's SelectBackward): O(T²) memory traffic, the larger part of a training step at T = 60.
The fused kernel does the same float32 operations in the same order (U_t = β V_{t-1} + g X_t, S_t = [U_t ≥ θ],
V_t = U_t (1 - S_t)), keeps U, and runs the backward

    gS_t = gs_t − gV'_t U_t,   gU_t = gS_t [|U_t − θ| < a] / (2a),   gV_t = gV'_t (1 − S_t) + gU_t,
    gX_t = g gV_t (+ 0 when T > 1), gV'_{t-1} = β gV_t               (gV'_{T-1} = 0, its terms omitted)

with the rectangular surrogate, as the same IEEE float32 operations autograd runs: spikes and gradients are
bit-identical to the reference (tests/models/test_fused_lif_grad.py). Only constant β, g, θ (:class:`LIF`);
PLIF, whose β and g learn, keeps the autograd loop.

The extension is built lazily with ``torch.utils.cpp_extension.load`` (gcc + ninja, no network) into torch's
extension cache, as the CPU simulator's kernels are (``snnc/native.py``): ~30 s once, then ~0.1 s per
process. If the build fails, ONE warning and the autograd loop. :func:`reference` forces the autograd loop
(the oracle of the tests and the "old" row of ``bench/bench_train.py``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from snnc.native import NativeKernel

KERNEL = NativeKernel("snnc_lif_train", Path(__file__).resolve().parent / "csrc" / "lif_train.cpp",
                      "fused LIF training kernel unavailable, using the autograd loop")
#: the compiled kernel module, or None (after one warning) if it cannot be built here
extension = KERNEL.extension
#: whether :class:`LIF` may use the fused kernel (default True)
enabled = KERNEL.enabled
#: within this block every LIF runs the step-by-step autograd loop (the reference of the fused kernel)
reference = KERNEL.disabled


def _frames(x: torch.Tensor) -> torch.Tensor | None:
    """x (N, T, ...) as an [N, T, M] view of its own memory when every (n, t) frame is one dense block of M
    values in sample-major, step-minor order (contiguous or channels_last frames); else None."""
    n, steps = x.shape[:2]
    m = x[0, 0].numel() if n and steps else 0
    if x.is_contiguous():
        return x.view(n, steps, m)
    if (steps > 1 and x.stride(1) != m) or (n > 1 and x.stride(0) != steps * m):
        return None
    expected = 1
    for size, stride in sorted(((x.shape[d], x.stride(d)) for d in range(2, x.dim()) if x.shape[d] > 1),
                               key=lambda p: p[1]):
        if stride != expected:
            return None
        expected *= size
    return x.as_strided((n, steps, m), (steps * m, m, 1))


class _FusedLIF(torch.autograd.Function):
    """Spikes of a constant-parameter LIF over all steps; backward with the rectangular surrogate."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, beta: float, gain: float, v_th: float, a: float):  # type: ignore[override]
        spikes, u = torch.empty_like(x), torch.empty_like(x)
        _forward(x, spikes, u, beta, gain, v_th)
        ctx.save_for_backward(u, spikes)
        ctx.coeffs = (beta, gain, v_th, a)
        return spikes

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        u, spikes = ctx.saved_tensors
        beta, gain, v_th, a = ctx.coeffs
        if grad.stride() != u.stride() or _frames(grad) is None:
            grad = torch.empty_like(u).copy_(grad)
        grad_x = torch.empty_like(u)
        extension().lif_backward(_frames(grad), _frames(u), _frames(spikes), _frames(grad_x), beta, gain,
                                 gain != 1.0, v_th, a)
        return grad_x, None, None, None, None


def _forward(x: torch.Tensor, spikes: torch.Tensor, u: torch.Tensor | None, beta: float, gain: float,
             v_th: float) -> None:
    """Spikes (and, when ``u`` is given, the pre-reset voltages) of x into tensors laid out like x."""
    empty = torch.empty(0, dtype=torch.float32)
    extension().lif_forward(_frames(x), _frames(spikes), empty if u is None else _frames(u), beta, gain,
                            gain != 1.0, v_th)


def lif(x: torch.Tensor, beta: float, gain: float, v_th: float, a: float) -> torch.Tensor | None:
    """Spikes (N, T, ...) of the constant LIF (float32 ``beta``, ``gain``, ``v_th``; surrogate half-width ``a``),
    or None when the fused kernel is disabled, unavailable, or x is not a CPU float32 (N, T, ...) tensor (the
    caller then runs the autograd loop)."""
    if not KERNEL.enabled() or x.dim() < 2 or x.dtype != torch.float32 or x.device.type != "cpu":
        return None
    if extension() is None:
        return None
    if _frames(x) is None:
        x = x.contiguous()
    if torch.is_grad_enabled() and x.requires_grad:
        return _FusedLIF.apply(x, beta, gain, v_th, a)
    spikes = torch.empty_like(x)
    _forward(x, spikes, None, beta, gain, v_th)
    return spikes
