"""The container every snnc network uses: ``blocks`` in forward order, a readout, and its config.

``forward(x)`` maps frames (N, T, C, H, W) to firing rates (N, classes); ``forward_record(x)``
also returns every block's spikes, keyed ``b{i}`` (residual sub-blocks as ``b{i}_conv1``,
``b{i}_conv2``, ``b{i}_down``). Readouts: ``"mean"``, the mean over T of the last block's spikes;
``("vote", g)``, that mean averaged over consecutive groups of g output neurons (class j owns
neurons j*g ... j*g + g - 1).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from snnc.models.blocks import ResidualBlock


def apply_readout(spikes: torch.Tensor, readout: str | tuple) -> torch.Tensor:
    """Rates (N, classes) from the output spikes (N, T, F)."""
    rates = spikes.mean(dim=1)
    if readout == "mean":
        return rates
    kind, group = readout
    if kind != "vote":
        raise ValueError(f"unknown readout {readout!r}")
    return rates.reshape(rates.shape[0], -1, int(group)).mean(dim=-1)


class SpikingNet(nn.Module):
    """A feed-forward chain of blocks with a rate readout."""

    def __init__(self, blocks: list[nn.Module], readout: str | tuple, config: dict[str, Any]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.readout = readout if readout == "mean" else tuple(readout)
        self.config = dict(config)

    def forward_record(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"b0": spikes, ..., "rates": (N, classes)}`` for frames x of shape (N, T, C, H, W)."""
        if x.dim() != 5:
            raise ValueError(f"expected input (N, T, C, H, W), got shape {tuple(x.shape)}")
        rec: dict[str, torch.Tensor] = {}
        h = x
        for i, block in enumerate(self.blocks):
            if isinstance(block, ResidualBlock):
                rec.update(block.forward_record(h, f"b{i}"))
                h = rec[f"b{i}"]
            else:
                h = block(h)
                rec[f"b{i}"] = h
        rec["rates"] = apply_readout(h, self.readout)
        return rec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for block in self.blocks:
            h = block(h)
        return apply_readout(h, self.readout)

    def spiking_layers(self, rec: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The entries of ``rec`` that are LIF outputs (excludes rates and residual sums)."""
        out = {}
        for i, block in enumerate(self.blocks):
            if isinstance(block, ResidualBlock):
                for part in ("conv1", "conv2", "down"):
                    if f"b{i}_{part}" in rec:
                        out[f"b{i}_{part}"] = rec[f"b{i}_{part}"]
            else:
                out[f"b{i}"] = rec[f"b{i}"]
        return out
