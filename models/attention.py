"""Attention choices of a block: ``"none"``, ``"asa"`` (ASA over the whole window) or ``"tcsa"``
(the MA-SNN baseline; PyTorch only, the compiler has no node for it)."""

from __future__ import annotations

from torch import nn

from snnc.models.asa import ASA
from snnc.models.tcsa import TCSA

ATTENTIONS = ("none", "asa", "tcsa")


def make_attention(kind: str, T: int, channels: int, reduction: int, lam: float = 0.5) -> nn.Module | None:
    """The attention module for a conv block with ``channels`` output channels, or None."""
    if kind == "none":
        return None
    if kind == "asa":
        return ASA(T, channels, reduction=reduction, lam=lam)
    if kind == "tcsa":
        return TCSA(T, channels)
    raise ValueError(f"unknown attention {kind!r}; valid: {', '.join(ATTENTIONS)}")
