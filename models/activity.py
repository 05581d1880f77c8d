"""Rescale a randomly initialised snnc network so that every spiking layer fires at a target rate.

Random PyTorch initialisation leaves deep layers silent, which makes exactness tests and
benchmarks meaningless. ``scale_to_rate`` walks the blocks in order and, for each, multiplies the
synapse's weight and bias (conv or fc) by a factor k found by bisection on log k so that the block's
mean firing rate on ``x`` is within 15 % of ``target`` (or the bisection ends). BatchNorm (eval, default statistics) is
linear, so it passes the scaling through. The model is modified in place; deterministic.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _scale(layer: nn.Module, k: float) -> None:
    syn = layer.conv if hasattr(layer, "conv") else layer.fc
    with torch.no_grad():
        syn.weight.mul_(k)
        if syn.bias is not None:
            syn.bias.mul_(k)


def _calibrate(layer: nn.Module, h: torch.Tensor, target: float, iters: int) -> torch.Tensor:
    lo, hi = math.log(1e-3), math.log(1e3)
    applied = 0.0
    out = layer(h)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        _scale(layer, math.exp(mid - applied))
        applied = mid
        out = layer(h)
        rate = float(out.mean())
        if abs(rate - target) < 0.15 * target:
            break
        if rate < target:
            lo = mid
        else:
            hi = mid
    return out


@torch.no_grad()
def scale_to_rate(model: nn.Module, x: torch.Tensor, target: float = 0.1, iters: int = 24) -> dict[str, float]:
    """Rescale ``model``'s synapses block by block; return the achieved rate per spiking layer."""
    model.eval()
    rates: dict[str, float] = {}
    h = x
    for i, block in enumerate(model.blocks):
        if hasattr(block, "conv1"):
            from snnc.models.blocks import per_frame

            q = per_frame(h, block.inpool) if block.inpool is not None else h
            s1 = _calibrate(block.conv1, q, target, iters)
            _calibrate(block.conv2, s1, target, iters)
            if block.down is not None:
                _calibrate(block.down, q, target, iters)
            rec = block.forward_record(h, f"b{i}")
            for key, val in rec.items():
                if key != f"b{i}":
                    rates[key] = float(val.mean())
            h = rec[f"b{i}"]
        else:
            h = _calibrate(block, h, target, iters)
            rates[f"b{i}"] = float(h.mean())
    return rates
