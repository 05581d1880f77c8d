"""ASA's full-size element-wise work for training in single C++ passes (``csrc/asa_train.cpp``).

:func:`snnc.models.asa.asa_factor` followed by ``y = x * factor`` builds, per ASA layer, about six full-size
(N, T, C, H, W) tensors forward and twenty backward (the masked copies, the factor, the gradients of the
masked mean and amax, the broadcast products). At the paper size these were ~30 % of an ASA training step.
:func:`asa_output` computes the same ``y`` from the same masks in three custom autograd nodes:

1. ``_Reduce`` — the descriptors ``[mean_tc(I x) / lam, max_tc(I x)]`` and ``[mean_tc((1-I) x) / (1-lam),
   max_tc((1-I) x)]`` by the very torch reductions asa_factor runs (same bits); its backward is one C++ pass
   (the mean's and the amax's gradients, masked and summed).
2. the small per-pixel part ``a = sigmoid(conv2d(d, w))`` stays in autograd, as asa_factor writes it;
3. ``_Apply`` — ``y = x * (I ? a1 : a2)`` in one pass; its backward is one pass writing ``g * factor`` and the
   two products torch sums into the gradients of a1 and a2 (the reduction autograd runs).

Every spike and weight equals the autograd graph of asa_factor to the last bit (``tests/models/
test_fused_asa_grad.py``; the element-wise algebra is in the C++ file). Used by :class:`snnc.models.asa.ASA`
only while the fused LIF kernel is enabled (:func:`snnc.models.fused_lif.reference` switches both off), for
CPU float32 inputs; otherwise, and if the build fails (one warning), the torch graph.

Inference uses the same forward without autograd: :func:`attention_maps` and :func:`apply_factor` (the CPU
simulator's exact ASA, ``backends/cpu/gains.py``), and :func:`factor_sums`, the per-sample sums of the factor
that ``fuse_asa_gains`` calibrates from, formed from I, A1 and A2 without the (N, T, C, H, W) factor.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from snnc.models import fused_lif
from snnc.native import NativeKernel

KERNEL = NativeKernel("snnc_asa_train", Path(__file__).resolve().parent / "csrc" / "asa_train.cpp",
                      "fused ASA training kernel unavailable, using the torch graph")
#: the compiled kernel module, or None (after one warning) if it cannot be built here
extension = KERNEL.extension


def applies(x: torch.Tensor) -> bool:
    """Whether :func:`asa_output` may run on ``x`` (the fused kernels enabled and built, CPU float32 input)."""
    return (fused_lif.enabled() and x.dtype == torch.float32 and x.device.type == "cpu" and x.dim() == 5
            and extension() is not None)


def _descriptors(x: torch.Tensor, imp: torch.Tensor, lam: float, hw: tuple[int, int]):
    """(d_imp, d_sub, top, count) for x (N, R, P) and I (N, R): the descriptors, each (N, 2, H, W), and the
    masked maxima with how many rows reach them, each (N, 2, P)."""
    n, rows, pixels = x.shape
    top, count = x.new_empty((n, 2, pixels)), x.new_empty((n, 2, pixels))
    extension().max_count(x, imp, top, count)
    imp3, out = imp[..., None], []
    for k, (part, scale) in enumerate(((imp3, lam), (1.0 - imp3, 1.0 - lam))):
        mean = (part * x).reshape(n, rows, *hw).mean(dim=1, keepdim=True)  # asa_factor's sum, same bits
        out.append(torch.cat([mean / scale, top[:, k:k + 1].reshape(n, 1, *hw)], dim=1))
    return out[0], out[1], top, count


class _Reduce(torch.autograd.Function):
    """(d_imp, d_sub), each (N, 2, H, W): the masked mean (scaled) and max over the rows of x (N, R, P)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, imp: torch.Tensor, lam: float, hw: tuple[int, int]):  # type: ignore[override]
        d_imp, d_sub, top, count = _descriptors(x, imp, lam, hw)
        ctx.save_for_backward(x, imp, top, count)
        ctx.lam = lam
        return d_imp, d_sub

    @staticmethod
    def backward(ctx, g_imp: torch.Tensor, g_sub: torch.Tensor):  # type: ignore[override]
        x, imp, top, count = ctx.saved_tensors
        n, rows, pixels = x.shape
        parts = []
        for k, (grad, scale) in enumerate(((g_imp, ctx.lam), (g_sub, 1.0 - ctx.lam))):
            grad = grad.reshape(n, 2, pixels)
            mean_grad = (grad[:, 0:1] / scale).div_(rows)  # DivBackward0, then MeanBackward's div_(numel)
            max_grad = grad[:, 1:2] / count[:, k:k + 1]  # AmaxBackward's scale_grad_by_count, before the mask
            parts += [mean_grad, max_grad, top[:, k:k + 1]]
        terms = torch.cat(parts, dim=1).contiguous()
        grad_x = torch.empty_like(x)
        extension().reduce_backward(x, imp, terms, grad_x)
        return grad_x, None, None, None


class _Apply(torch.autograd.Function):
    """y = x * (I ? a1 : a2) for x (N, R, P) with R = steps * C rows, I (N, R), a1 and a2 (N, P)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, imp: torch.Tensor, a1: torch.Tensor, a2: torch.Tensor,  # type: ignore[override]
                steps: int):
        y = torch.empty_like(x)
        extension().apply_forward(x, imp, a1, a2, y)
        ctx.save_for_backward(x, imp, a1, a2)
        ctx.steps = steps
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        x, imp, a1, a2 = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x, t1, t2 = torch.empty_like(x), torch.empty_like(x), torch.empty_like(x)
        extension().apply_backward(grad, x, imp, a1, a2, grad_x, t1, t2)
        n, rows, pixels = x.shape
        # autograd's sum_to_size of the broadcast products over (T, C), the same reduction on the same values
        shape = (n, ctx.steps, rows // ctx.steps, pixels)
        g1 = t1.view(shape).sum(dim=(1, 2), keepdim=True).reshape(a1.shape)
        g2 = t2.view(shape).sum(dim=(1, 2), keepdim=True).reshape(a2.shape)
        return grad_x, None, g1, g2, None


def asa_output(x: torch.Tensor, imp: torch.Tensor, conv1: torch.Tensor, conv2: torch.Tensor,
               lam: float) -> torch.Tensor:
    """``x * asa_factor(x, ...)`` for currents x (N, T, C, H, W), masks ``imp`` (N, T, C) and the conv weights
    (1, 2, 3, 3), the same bits forward and backward (module docstring)."""
    n, t, c, h, w = x.shape
    x3 = x.contiguous().view(n, t * c, h * w)
    imp2 = imp.reshape(n, t * c).contiguous()
    d_imp, d_sub = _Reduce.apply(x3, imp2, float(lam), (h, w))
    a1 = torch.sigmoid(F.conv2d(d_imp, conv1, padding=1))
    a2 = torch.sigmoid(F.conv2d(d_sub, conv2, padding=1))
    y = _Apply.apply(x3, imp2, a1.reshape(n, h * w).contiguous(), a2.reshape(n, h * w).contiguous(), t)
    return y.view(n, t, c, h, w)


# Inference (the CPU simulator and fuse_asa_gains): the same forward values without autograd.


def _rows(x: torch.Tensor, imp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n, t, c, h, w = x.shape
    return x.contiguous().view(n, t * c, h * w), imp.reshape(n, t * c).contiguous()


def attention_maps(x: torch.Tensor, imp: torch.Tensor, conv1: torch.Tensor, conv2: torch.Tensor,
                   lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(A1, A2), each (N, H·W) contiguous float32, of asa_factor for currents x (N, T, C, H, W) and masks ``imp``
    (N, T, C), without autograd: the factor is ``I ? A1 : A2`` (module docstring)."""
    n, _, _, h, w = x.shape
    with torch.no_grad():
        x3, imp2 = _rows(x, imp)
        d_imp, d_sub, _, _ = _descriptors(x3, imp2, float(lam), (h, w))
        a1 = torch.sigmoid(F.conv2d(d_imp, conv1, padding=1))
        a2 = torch.sigmoid(F.conv2d(d_sub, conv2, padding=1))
    return a1.reshape(n, h * w).contiguous(), a2.reshape(n, h * w).contiguous()


def apply_factor(x: torch.Tensor, imp: torch.Tensor, a1: torch.Tensor, a2: torch.Tensor,
                 inplace: bool = False) -> torch.Tensor:
    """``x * (I ? A1 : A2)`` for x (N, T, C, H, W) contiguous, in one pass, into x itself when ``inplace``."""
    x3, imp2 = _rows(x, imp)
    y = x3 if inplace else torch.empty_like(x3)
    extension().apply_forward(x3, imp2, a1, a2, y)
    return y.view(x.shape)


def factor_sums(imp: torch.Tensor, a1: torch.Tensor, a2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(Σ_n f_n, Σ_n f_n²) over the samples of the factor f_n = I[n] ? A1[n] : A2[n], each (T·C, H·W) float64,
    for masks ``imp`` (N, T, C) and A1, A2 (N, H·W): the sums of
    :func:`snnc.compiler.window_attention.sample_sums`, in the same order, without the (N, T, C, H, W) factor."""
    imp2 = imp.reshape(imp.shape[0], -1).contiguous()
    s = torch.empty((imp2.shape[1], a1.shape[1]), dtype=torch.float64)
    q = torch.empty_like(s)
    extension().factor_sums(imp2, a1, a2, s, q)
    return s, q
