"""The ASA module of ASA-SNN (Yao et al., ICCV 2023), fixed to compute masks per sample.

For one sample with currents x of shape (T, C, H, W) (conv + BN + pool output of a layer):

1. F_avg, F_max = mean, max of x over (H, W)                                   -> (T, C)
2. M' = 0.5 (F_avg + F_max) + alpha F_avg + gamma F_max
3. M  = fc(M') along T, shared over channels (fc1: T -> T/r, ReLU, fc2: T/r -> T; r = 1: fc1 only)
4. I_c = top-k_c channels of M[t, :] for each t (k_c = int(C lam));
   I_t = top-k_t steps of M[:, c] for each c (k_t = int(T lam));  I = I_c XOR I_t.
   Ties: higher score first, then lower index (a stable argsort of -M; NumPy's
   ``np.argsort(-M, kind="stable")`` selects the same entries).
5. A1 = sigmoid(conv1([mean_tc(I x) / lam, max_tc(I x)])),
   A2 = sigmoid(conv2([mean_tc((1-I) x) / (1-lam), max_tc((1-I) x)]))          each (H, W)
6. y = x * (I A1 + (1 - I) A2)

Differences from the released code (docs/notes/models.md, "Deviations from the released code"): the masks are the
top-k of each sample's own scores (the released code takes the union over the batch), batch size 1
works, and the tie-break is deterministic. As released, alpha, gamma and the fc weights reach the
output only through top-k indices, so they get no gradient; only conv1 and conv2 learn.

:func:`asa_factor` is the exact float32 reference used by the model, the CPU simulator and the
gain-calibration pass; keep its signature and operation order stable.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from snnc.models import asa_scores as score_steps
from snnc.models import fused_asa
from snnc.models.window_attention import WindowAttention

ArrayLike = Any  # torch.Tensor, numpy array, float or None


def _t(a: ArrayLike, like: torch.Tensor) -> torch.Tensor | None:
    """``a`` as a float32 tensor on ``like``'s device (None or empty stays None)."""
    if a is None:
        return None
    if isinstance(a, nn.Module):
        a = a.weight
    t = torch.as_tensor(a, dtype=torch.float32, device=like.device)
    return None if t.numel() == 0 else t


def topk_mask(scores: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """0/1 float32 mask of the k largest entries of ``scores`` along ``dim``.

    Ties go to the lower index (stable sort of ``-scores``), so the choice is deterministic.
    """
    mask = torch.zeros_like(scores, dtype=torch.float32)
    if k <= 0:
        return mask
    order = torch.argsort(-scores, dim=dim, stable=True)
    idx = order.narrow(dim, 0, min(k, scores.shape[dim]))
    return mask.scatter_(dim, idx, 1.0)


def asa_scores(x: torch.Tensor, alpha: ArrayLike, gamma: ArrayLike, fc1: ArrayLike, fc2: ArrayLike, *,
               squeeze: str = "s5", excitation: str = "mlp", eca: ArrayLike = None) -> torch.Tensor:
    """Temporal-channel importance scores M, shape (N, T, C), from x of shape (N, T, C, H, W).

    Default (the released ASA): M' = 0.5 (F_avg + F_max) + alpha F_avg + gamma F_max; M = fc2(relu(fc1(M')))
    along T (M = fc1(M') when ``fc2`` is None or empty, i.e. reduction r = 1). The ablation choices of
    ``squeeze`` and ``excitation`` are in :mod:`snnc.models.asa_scores`.
    """
    params = {"alpha": _t(alpha, x), "gamma": _t(gamma, x), "fc1": _t(fc1, x), "fc2": _t(fc2, x), "eca": _t(eca, x)}
    return score_steps.scores(x, params, squeeze, excitation)


def asa_masks(
    x: torch.Tensor, alpha: ArrayLike, gamma: ArrayLike, fc1: ArrayLike, fc2: ArrayLike, lam: float = 0.5, *,
    squeeze: str = "s5", excitation: str = "mlp", eca: ArrayLike = None,
) -> torch.Tensor:
    """The "important" mask I = I_c XOR I_t, float32 0/1 of shape (N, T, C), per sample."""
    x = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        m = asa_scores(x.detach(), alpha, gamma, fc1, fc2, squeeze=squeeze, excitation=excitation, eca=eca)
        _, t, c = m.shape
        i_c = topk_mask(m, int(c * lam), dim=2)
        i_t = topk_mask(m, int(t * lam), dim=1)
        return (i_c != i_t).to(torch.float32)


def asa_parts(
    x: torch.Tensor,
    alpha: ArrayLike,
    gamma: ArrayLike,
    fc1: ArrayLike,
    fc2: ArrayLike,
    conv1: ArrayLike,
    conv2: ArrayLike,
    lam: float = 0.5,
    *,
    squeeze: str = "s5",
    excitation: str = "mlp",
    eca: ArrayLike = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Steps 1–5 for x (N, T, C, H, W): the mask I (N, T, C, 1, 1), float32 0/1, and A1, A2, each (N, 1, H, W).
    Arguments as :func:`asa_factor`, whose factor is ``I A1 + (1 - I) A2`` of these."""
    x = torch.as_tensor(x, dtype=torch.float32)
    n, t, c, h, w = x.shape
    imp = asa_masks(x, alpha, gamma, fc1, fc2, lam, squeeze=squeeze, excitation=excitation, eca=eca)[..., None, None]
    sub = 1.0 - imp
    x_imp = (imp * x).reshape(n, t * c, h, w)
    d_imp = torch.cat([x_imp.mean(dim=1, keepdim=True) / lam, x_imp.amax(dim=1, keepdim=True)], dim=1)
    del x_imp
    x_sub = (sub * x).reshape(n, t * c, h, w)
    d_sub = torch.cat([x_sub.mean(dim=1, keepdim=True) / (1.0 - lam), x_sub.amax(dim=1, keepdim=True)], dim=1)
    del x_sub
    a1 = torch.sigmoid(F.conv2d(d_imp, _t(conv1, x), padding=1))  # (N, 1, H, W)
    a2 = torch.sigmoid(F.conv2d(d_sub, _t(conv2, x), padding=1))
    return imp, a1, a2


def asa_factor(
    x: torch.Tensor,
    alpha: ArrayLike,
    gamma: ArrayLike,
    fc1: ArrayLike,
    fc2: ArrayLike,
    conv1: ArrayLike,
    conv2: ArrayLike,
    lam: float = 0.5,
    *,
    squeeze: str = "s5",
    excitation: str = "mlp",
    eca: ArrayLike = None,
) -> torch.Tensor:
    """The multiplicative ASA factor I A1 + (1 - I) A2, broadcast to x's shape (N, T, C, H, W).

    ``y = x * asa_factor(x, ...)`` is the ASA output. Accepts tensors or NumPy arrays for the
    parameters (fc2 None/empty when r = 1; conv weights of shape (1, 2, 3, 3)). Differentiable
    with respect to x, conv1 and conv2 (not alpha, gamma, fc, eca: they only choose the masks).
    ``squeeze``/``excitation``/``eca``: the ablation choices of Step 1 (:mod:`snnc.models.asa_scores`).
    """
    imp, a1, a2 = asa_parts(x, alpha, gamma, fc1, fc2, conv1, conv2, lam, squeeze=squeeze, excitation=excitation,
                            eca=eca)
    return imp * a1[:, None] + (1.0 - imp) * a2[:, None]


class ASA(WindowAttention):
    """ASA attention over a whole window: y = x * (I A1 + (1 - I) A2); see the module docstring.

    Parameters: ``alpha``, ``gamma`` (shape (1,), 0.5; squeeze s5 only), ``fc1`` (Linear T -> T//r, no
    bias) and ``fc2`` (Linear T//r -> T, no bias; None when r = 1, fc1 is then Linear T -> T) for the
    mlp excitation, ``eca`` (Conv1d 1 -> 1, kernel k, no bias) for the eca excitation, ``conv1``,
    ``conv2`` (Conv2d 2 -> 1, 3x3, padding 1, no bias). ``lam`` is the top-k fraction. ``squeeze`` and
    ``excitation`` select the supplement's ablations (Tables S7, S8; :mod:`snnc.models.asa_scores`).
    """

    label = "ASA"

    def __init__(self, T: int, channels: int, reduction: int = 4, lam: float = 0.5, squeeze: str = "s5",
                 excitation: str = "mlp") -> None:
        super().__init__()
        if T < 1 or channels < 1:
            raise ValueError(f"ASA needs T >= 1 and channels >= 1, got T={T}, channels={channels}")
        if reduction < 1 or T // reduction < 1:
            raise ValueError(f"ASA reduction {reduction} is invalid for T={T} (need 1 <= r <= T)")
        if squeeze not in score_steps.SQUEEZES:
            raise ValueError(f"unknown ASA squeeze {squeeze!r}; valid: {', '.join(score_steps.SQUEEZES)}")
        if excitation not in score_steps.EXCITATIONS:
            raise ValueError(f"unknown ASA excitation {excitation!r}; valid: {', '.join(score_steps.EXCITATIONS)}")
        self.T, self.channels, self.reduction, self.lam = int(T), int(channels), int(reduction), float(lam)
        self.squeeze, self.excitation = squeeze, excitation
        self.k_c, self.k_t = int(channels * lam), int(T * lam)
        self.alpha = nn.Parameter(torch.full((1,), 0.5)) if squeeze == "s5" else None
        self.gamma = nn.Parameter(torch.full((1,), 0.5)) if squeeze == "s5" else None
        self.fc1 = self.fc2 = self.eca = None
        if excitation == "mlp" and reduction == 1:
            self.fc1 = nn.Linear(T, T, bias=False)
        elif excitation == "mlp":
            self.fc1 = nn.Linear(T, T // reduction, bias=False)
            self.fc2 = nn.Linear(T // reduction, T, bias=False)
        elif excitation == "eca":
            k = score_steps.eca_kernel_size(T)
            self.eca = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)
        self.conv1 = nn.Conv2d(2, 1, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(2, 1, 3, padding=1, bias=False)

    def params(self) -> tuple:
        """(alpha, gamma, fc1, fc2, conv1, conv2) weights in :func:`asa_factor` order (None where absent)."""
        def w(m):
            return None if m is None else m.weight
        return self.alpha, self.gamma, w(self.fc1), w(self.fc2), self.conv1.weight, self.conv2.weight

    def options(self) -> dict:
        """The keyword arguments ``squeeze``, ``excitation``, ``eca`` of :func:`asa_factor`."""
        return {"squeeze": self.squeeze, "excitation": self.excitation,
                "eca": None if self.eca is None else self.eca.weight}

    def masks(self, x: torch.Tensor) -> torch.Tensor:
        """The "important" mask I, (N, T, C)."""
        return asa_masks(x, *self.params()[:4], lam=self.lam, **self.options())

    def factor(self, x: torch.Tensor) -> torch.Tensor:
        """The factor I A1 + (1 - I) A2, (N, T, C, H, W)."""
        return asa_factor(x, *self.params(), lam=self.lam, **self.options())

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """``x * factor(x)``; in training, the fused kernels of :mod:`snnc.models.fused_asa` (same bits)."""
        if torch.is_grad_enabled() and fused_asa.applies(x):
            return fused_asa.asa_output(x, self.masks(x), self.conv1.weight, self.conv2.weight, self.lam)
        return x * self.factor(x)

    def extra_repr(self) -> str:
        return (f"T={self.T}, channels={self.channels}, reduction={self.reduction}, lam={self.lam}, "
                f"squeeze={self.squeeze}, excitation={self.excitation}")
