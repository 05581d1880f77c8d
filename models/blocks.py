"""Network building blocks. The graph exporter walks these attributes, so their names are a contract.

All blocks take and return (N, T, ...) tensors. Per-frame layers (pooling, conv, BN, fc) run
with T folded into the batch, so BatchNorm statistics are taken over N and T jointly (as
spikingjelly's ``SeqToANNContainer`` in the released code).

- :class:`ConvBlock`: ``inpool`` (MaxPool2d on input spikes | None) -> ``conv`` -> ``bn``
  (BatchNorm2d | None) -> ``pool`` (AvgPool2d on currents | None) -> ``attn`` (over the whole
  window | None) -> ``lif``.
- :class:`FCBlock`: ``inpool`` (MaxPool2d/AvgPool2d per frame | None) -> ``flatten`` (C, H, W -> F,
  C-major) -> ``fc`` -> ``lif``.
- :class:`ResidualBlock`: SEW-ResNet BasicBlock with ADD: optional ``inpool`` on the block input, then
  ``conv2(conv1(x)) + (down(x) if down else x)``; its output takes values 0..2.

``drop_in``/``drop_out`` are :class:`TimeDropout` (identity in eval mode).
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.models import spike_conv


class TimeDropout(nn.Module):
    """Dropout with one mask per sample reused at every timestep (spikingjelly ``layer.Dropout``)."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.full((x.shape[0], 1, *x.shape[2:]), 1.0 - self.p, device=x.device)
        return x * torch.bernoulli(keep) / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def config_sizes(config: dict, count: int, what: str) -> tuple[list[int], int, int]:
    """(widths, H, W) of a complete model config; ValueError unless it has ``count`` widths (``what``, e.g.
    "lif-snn-3 needs 3 conv widths")."""
    widths = [int(w) for w in config["widths"]]
    if len(widths) != count:
        raise ValueError(f"{what}, got {widths}")
    h, w = (int(s) for s in config["input_size"])
    return widths, h, w


def per_frame(x: torch.Tensor, *layers: nn.Module | None) -> torch.Tensor:
    """Apply ``layers`` (None skipped) to every frame of x (N, T, ...), T folded into the batch."""
    n, t = x.shape[:2]
    z = x.reshape(n * t, *x.shape[2:])
    for layer in layers:
        if layer is not None:
            z = layer(z)
    return z.reshape(n, t, *z.shape[1:])


class ConvBlock(nn.Module):
    """inpool -> conv -> bn -> pool (per frame) -> attn (whole window) -> LIF."""

    def __init__(self, conv: nn.Conv2d, lif: nn.Module, *, bn: bool = True, inpool: nn.Module | None = None,
                 pool: nn.Module | None = None, attn: nn.Module | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        self.drop_in = TimeDropout(dropout)
        self.inpool = inpool
        self.conv = conv
        self.bn = nn.BatchNorm2d(conv.out_channels) if bn else None
        self.pool = pool
        self.attn = attn
        self.lif = lif
        self.drop_out = TimeDropout(dropout)

    def currents(self, x: torch.Tensor) -> torch.Tensor:
        """The LIF input currents (N, T, C, H, W), after attention."""
        z = per_frame(self.drop_in(x), self.inpool, self._conv, self.bn, self.pool)
        return self.attn(z) if self.attn is not None else z

    def _conv(self, frames: torch.Tensor) -> torch.Tensor:
        """``self.conv`` on frames; its weight gradient event-driven inside ``spike_conv.event_weight_grad()``."""
        return spike_conv.conv2d(self.conv, frames)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_out(self.lif(self.currents(x)))


class FCBlock(nn.Module):
    """inpool (per frame) -> flatten (C, H, W) -> fc -> LIF."""

    def __init__(self, fc: nn.Linear, lif: nn.Module, *, flatten: bool = False, inpool: nn.Module | None = None,
                 dropout: float = 0.0, dropout_out: float | None = None) -> None:
        """``dropout`` on the input and (unless ``dropout_out`` says otherwise) on the output spikes."""
        super().__init__()
        self.drop_in = TimeDropout(dropout)
        self.inpool = inpool
        self.flatten = bool(flatten)
        self.fc = fc
        self.lif = lif
        self.drop_out = TimeDropout(dropout if dropout_out is None else dropout_out)

    def currents(self, x: torch.Tensor) -> torch.Tensor:
        z = per_frame(self.drop_in(x), self.inpool)
        if self.flatten:
            z = z.reshape(z.shape[0], z.shape[1], -1)
        return self.fc(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_out(self.lif(self.currents(x)))


class ResidualBlock(nn.Module):
    """SEW BasicBlock (ADD): out = conv2(conv1(p)) + shortcut(p), p = inpool(x) or x."""

    def __init__(self, conv1: ConvBlock, conv2: ConvBlock, down: ConvBlock | None = None,
                 inpool: nn.Module | None = None) -> None:
        super().__init__()
        self.inpool = inpool
        self.conv1 = conv1
        self.conv2 = conv2
        self.down = down

    def forward_record(self, x: torch.Tensor, name: str) -> dict[str, torch.Tensor]:
        """Spikes of the sub-blocks as ``{name}_conv1``, ``{name}_conv2``, ``{name}_down`` and the sum ``name``."""
        p = per_frame(x, self.inpool) if self.inpool is not None else x
        rec = {f"{name}_conv1": self.conv1(p)}
        rec[f"{name}_conv2"] = self.conv2(rec[f"{name}_conv1"])
        if self.down is not None:
            rec[f"{name}_down"] = self.down(p)
            shortcut = rec[f"{name}_down"]
        else:
            shortcut = p
        rec[name] = rec[f"{name}_conv2"] + shortcut
        return rec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_record(x, "out")["out"]
