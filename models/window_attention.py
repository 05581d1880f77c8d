"""The shape of every attention over a whole window: ``y = x * factor(x)`` on currents x of shape (N, T, C, H, W).

:class:`snnc.models.asa.ASA` and :class:`snnc.models.ma_attention.MultiDimAttention` subclass it and define
``factor``; ``forward`` checks the window's shape once for both, then :meth:`WindowAttention.attend`.
"""

from __future__ import annotations

import torch
from torch import nn


class WindowAttention(nn.Module):
    """Base of the attentions: ``T`` steps and ``channels`` channels; subclasses define :meth:`factor`."""

    T: int
    channels: int
    #: how shape errors name the module ("{label}(T=…, C=…) expects …")
    label = "attention "

    def factor(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[1] != self.T or x.shape[2] != self.channels:
            raise ValueError(f"{self.label}(T={self.T}, C={self.channels}) expects (N, T, C, H, W), "
                             f"got {tuple(x.shape)}")
        return self.attend(x)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """``x * factor(x)`` (a subclass may compute the same values faster)."""
        return x * self.factor(x)
