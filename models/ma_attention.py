r"""The multi-dimensional attention of MA-SNN (Yao et al., TPAMI 2023): TA, CA, SA and TCSA.

As released in ``BICLab/Attention-SNN`` (``MA_SNN/module/Attention.py``; docs/notes/experiment.md), over a whole
window x of shape (N, T, C, H, W), after conv → BN → pool and before the LIF loop, applied in the
order t, c, s, each to the output of the previous one, then a ReLU:

    t (TA): a_t = σ(mlp_t(avg_{c,h,w} x) + mlp_t(max_{c,h,w} x))     (N, T, 1, 1, 1);  x ← a_t x
    c (CA): a_c = σ(mlp_c(avg_{t,h,w} x) + mlp_c(max_{t,h,w} x))     (N, 1, C, 1, 1);  x ← a_c x
    s (SA): a_s = σ(conv_k([mean_{tc} x, max_{tc} x]))              (N, 1, 1, H, W);  x ← a_s x
    y = ReLU(x)

mlp_t: T → ⌊T/r_t⌋ → T and mlp_c: C → ⌊C/r_c⌋ → C are bias-free with a ReLU between (the released
1×1 Conv3d pairs); conv_k is Conv2d(2 → 1, k×k, padding k//2, no bias), k = 3 as released (Table S1
charges 7×7). TA = dims "t", CA = "c", SA = "s", TCSA = "tcs". Every parameter learns.

Factor form: every a is > 0 (a sigmoid), so ReLU(a_s a_c a_t x) = x · f with
f = a_t a_c a_s [x > 0]. :func:`ma_factor` computes f; the module returns ``x * f``, the form the CPU
simulator and the gain-fusion pass share (the released code multiplies step by step; the products
differ from ``x * f`` only by float32 rounding). Not causal in time (TA and SA pool the whole window).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from snnc.models.window_attention import WindowAttention

DIMS = ("t", "c", "s", "tcs")
#: attention name (models.attention) -> dims
KINDS = {"ta": "t", "ca": "c", "sa": "s", "tcsa": "tcs"}


def _w(a, like: torch.Tensor) -> torch.Tensor | None:
    if a is None:
        return None
    t = torch.as_tensor(a, dtype=torch.float32, device=like.device)
    return None if t.numel() == 0 else t


def _mlp(v: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    return F.linear(F.relu(F.linear(v, w1)), w2)


def ma_factor(x: torch.Tensor, dims: str, time_fc1=None, time_fc2=None, channel_fc1=None, channel_fc2=None,
              spatial=None, relu: bool = True) -> torch.Tensor:
    """The factor f = a_t a_c a_s [x > 0] (absent dimensions omitted), broadcast to x's shape (N, T, C, H, W);
    ``relu=False``: the gates a_t a_c a_s alone (broadcastable, not expanded)."""
    x = torch.as_tensor(x, dtype=torch.float32)
    cur, f = x, None
    if "t" in dims:
        w1, w2 = _w(time_fc1, x), _w(time_fc2, x)
        a = torch.sigmoid(_mlp(cur.mean(dim=(2, 3, 4)), w1, w2) + _mlp(cur.amax(dim=(2, 3, 4)), w1, w2))
        a = a[:, :, None, None, None]
        cur, f = a * cur, a
    if "c" in dims:
        w1, w2 = _w(channel_fc1, x), _w(channel_fc2, x)
        a = torch.sigmoid(_mlp(cur.mean(dim=(1, 3, 4)), w1, w2) + _mlp(cur.amax(dim=(1, 3, 4)), w1, w2))
        a = a[:, None, :, None, None]
        cur, f = a * cur, (a if f is None else f * a)
    if "s" in dims:
        k = _w(spatial, x)
        merged = cur.flatten(1, 2)
        d = torch.cat([merged.mean(dim=1, keepdim=True), merged.amax(dim=1, keepdim=True)], dim=1)
        a = torch.sigmoid(F.conv2d(d, k, padding=k.shape[-1] // 2))[:, None]  # (N, 1, 1, H, W)
        f = a if f is None else f * a
    return f * (x > 0).to(torch.float32) if relu else f


class MultiDimAttention(WindowAttention):
    """TA / CA / SA / TCSA (``dims`` ⊆ "tcs"): y = x · :func:`ma_factor` (module docstring)."""

    def __init__(self, T: int, channels: int, dims: str = "tcs", t_ratio: int = 5, c_ratio: int = 8,
                 kernel_size: int = 3) -> None:
        super().__init__()
        if dims not in DIMS:
            raise ValueError(f"unknown attention dims {dims!r}; valid: {', '.join(DIMS)}")
        if kernel_size not in (3, 7):
            raise ValueError(f"spatial attention kernel must be 3 or 7, got {kernel_size}")
        for name, size, ratio in (("t_ratio", T, t_ratio), ("c_ratio", channels, c_ratio)):
            if ratio < 1:
                raise ValueError(f"{name} must be >= 1, got {ratio}")
        self.T, self.channels, self.dims = int(T), int(channels), dims
        self.t_ratio, self.c_ratio, self.kernel_size = int(t_ratio), int(c_ratio), int(kernel_size)
        self.time_fc1 = self.time_fc2 = self.channel_fc1 = self.channel_fc2 = self.spatial = None
        if "t" in dims:
            hidden = max(1, T // t_ratio)
            self.time_fc1, self.time_fc2 = nn.Linear(T, hidden, bias=False), nn.Linear(hidden, T, bias=False)
        if "c" in dims:
            hidden = max(1, channels // c_ratio)
            self.channel_fc1 = nn.Linear(channels, hidden, bias=False)
            self.channel_fc2 = nn.Linear(hidden, channels, bias=False)
        if "s" in dims:
            self.spatial = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def weights(self) -> dict[str, torch.Tensor | None]:
        """The keyword arguments of :func:`ma_factor` (None for absent dimensions)."""
        names = ("time_fc1", "time_fc2", "channel_fc1", "channel_fc2", "spatial")
        return {n: (None if getattr(self, n) is None else getattr(self, n).weight) for n in names}

    def factor(self, x: torch.Tensor) -> torch.Tensor:
        return ma_factor(x, self.dims, **self.weights())

    def extra_repr(self) -> str:
        return (f"dims={self.dims}, T={self.T}, channels={self.channels}, t_ratio={self.t_ratio}, "
                f"c_ratio={self.c_ratio}, kernel_size={self.kernel_size}")
