"""TCSA attention (MA-SNN, Yao et al., TPAMI 2023), the baseline ASA-SNN compares against.

Over a whole window x of shape (N, T, C, H, W), as in ``MA_SNN/module/Attention.py``:

    TA: a_t = sigmoid(mlp_t(avg_{c,h,w} x) + mlp_t(max_{c,h,w} x))   (N, T, 1, 1, 1); x <- a_t x
    CA: a_c = sigmoid(mlp_c(avg_{t,h,w} x) + mlp_c(max_{t,h,w} x))   (N, 1, C, 1, 1); x <- a_c x
    SA: a_s = sigmoid(conv([mean_{tc} x, max_{tc} x]))               (N, 1, 1, H, W); x <- a_s x
    y = relu(x)

mlp_t: T -> T//t_ratio -> T, mlp_c: C -> C//c_ratio -> C (bias-free, ReLU between; the released
1x1 Conv3d layers), conv: Conv2d(2 -> 1, 3x3, padding 1, no bias). Every parameter learns. Not
causal in time; snnc's compiler has no IR node for it (training and PyTorch evaluation only).
"""

from __future__ import annotations

import torch
from torch import nn


def _mlp(features: int, ratio: int) -> nn.Sequential:
    hidden = max(1, features // ratio)
    return nn.Sequential(nn.Linear(features, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, features, bias=False))


class TCSA(nn.Module):
    """Temporal, channel and spatial attention applied in sequence, then ReLU."""

    def __init__(self, T: int, channels: int, t_ratio: int = 5, c_ratio: int = 8) -> None:
        super().__init__()
        self.T, self.channels = int(T), int(channels)
        self.time_mlp = _mlp(T, t_ratio)
        self.channel_mlp = _mlp(channels, c_ratio)
        self.conv = nn.Conv2d(2, 1, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[1] != self.T or x.shape[2] != self.channels:
            raise ValueError(f"TCSA(T={self.T}, C={self.channels}) expects (N, T, C, H, W), got {tuple(x.shape)}")
        a_t = torch.sigmoid(self.time_mlp(x.mean(dim=(2, 3, 4))) + self.time_mlp(x.amax(dim=(2, 3, 4))))
        x = a_t[:, :, None, None, None] * x
        a_c = torch.sigmoid(self.channel_mlp(x.mean(dim=(1, 3, 4))) + self.channel_mlp(x.amax(dim=(1, 3, 4))))
        x = a_c[:, None, :, None, None] * x
        merged = x.flatten(1, 2)
        a_s = torch.sigmoid(self.conv(torch.cat([merged.mean(1, keepdim=True), merged.amax(1, keepdim=True)], 1)))
        return torch.relu(a_s[:, None] * x)

    def extra_repr(self) -> str:
        return f"T={self.T}, channels={self.channels}"
