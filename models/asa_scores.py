r"""Step 1 of ASA: the temporal-channel importance scores M, with the supplement's ablation choices.

For currents x of shape (N, T, C, H, W), F_avg and F_max are the mean and max of x over (H, W),
each (N, T, C). **Squeeze** (supplement §S3) makes the descriptor M':

    s5  M' = ½ (F_avg + F_max) + α F_avg + γ F_max      (Eq. S5, HAM; the released ASA)
    s7  M' = F_avg                                       (Eq. S7, SE)
    s8  M' = ½ (F_avg + F_max)                           (Eq. S8, CBAM)

**Excitation** maps M' to M along T, shared over channels (Table S8):

    mlp    M = W₂ ReLU(W₁ M')   (Eq. S6 without σ, as released; r = 1: M = W₁ M', W₁ ∈ R^{T×T})
    eca    M = conv1d_k(M')     (ECA-style, "CID" in Table S8: one bias-free 1-D conv along T with
                                 zero padding k//2; k from ECA's rule on T, :func:`eca_kernel_size`)
    simam  M = M' · σ(E)        (SimAM, parameter-free: E = (M' − μ)² / (4 (σ² + λ)) + ½ with μ, σ²
                                 the mean and the variance (divisor T − 1) of M' along T, λ = 1e-4)

M only ranks (t, c) entries for the top-k masks, so a monotone σ after it would change nothing; as
released, no σ is applied. None of these parameters receives a gradient (they reach the output only
through top-k indices, as released; docs/notes/models.md).
The eca and simam forms along T are snnc's reading of Table S8 (the supplement gives no code).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

SQUEEZES = ("s5", "s7", "s8")
EXCITATIONS = ("mlp", "eca", "simam")
SIMAM_LAMBDA = 1e-4


def eca_kernel_size(T: int, gamma: int = 2, b: int = 1) -> int:
    """ECA's adaptive kernel size for a length-T axis: the odd number nearest above |(log₂ T + b) / γ|."""
    k = int(abs((math.log2(max(T, 1)) + b) / gamma))
    return k if k % 2 else k + 1


def squeeze(x: torch.Tensor, kind: str, alpha: torch.Tensor | None, gamma: torch.Tensor | None) -> torch.Tensor:
    """The descriptor M' (N, T, C) of currents x (N, T, C, H, W)."""
    f_avg = x.mean(dim=(3, 4))
    if kind == "s7":
        return f_avg
    f_max = x.amax(dim=(3, 4))
    if kind == "s8":
        return 0.5 * (f_avg + f_max)
    if kind == "s5":
        return 0.5 * (f_avg + f_max) + alpha * f_avg + gamma * f_max
    raise ValueError(f"unknown ASA squeeze {kind!r}; valid: {', '.join(SQUEEZES)}")


def excite(m: torch.Tensor, kind: str, fc1: torch.Tensor | None, fc2: torch.Tensor | None,
           eca: torch.Tensor | None) -> torch.Tensor:
    """The scores M (N, T, C) from the descriptor M' (N, T, C), acting along T."""
    m = m.transpose(1, 2)  # (N, C, T)
    if kind == "mlp":
        m = F.linear(m, fc1)
        if fc2 is not None:
            m = F.linear(F.relu(m), fc2)
    elif kind == "eca":
        n, c, t = m.shape
        k = eca.shape[-1]
        m = F.conv1d(m.reshape(n * c, 1, t), eca.reshape(1, 1, k), padding=k // 2).reshape(n, c, t)
    elif kind == "simam":
        d = (m - m.mean(dim=2, keepdim=True)) ** 2
        var = d.sum(dim=2, keepdim=True) / max(m.shape[2] - 1, 1)
        m = m * torch.sigmoid(d / (4.0 * (var + SIMAM_LAMBDA)) + 0.5)
    else:
        raise ValueError(f"unknown ASA excitation {kind!r}; valid: {', '.join(EXCITATIONS)}")
    return m.transpose(1, 2)


def scores(x: torch.Tensor, params: dict[str, Any], squeeze_kind: str = "s5", excitation: str = "mlp") -> torch.Tensor:
    """M = excite(squeeze(x)), (N, T, C); ``params`` holds float32 tensors or None for alpha, gamma,
    fc1, fc2, eca."""
    return excite(squeeze(x, squeeze_kind, params.get("alpha"), params.get("gamma")), excitation,
                  params.get("fc1"), params.get("fc2"), params.get("eca"))
