"""Shared by the fixture generators beside this file (each runs in its framework's scratch environment, see
their headers): seeded torch weights, seeded Bernoulli input spikes, and the three fixture files.

Only numpy, torch and nir are imported here, which every scratch environment has.
"""

from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import torch


def seed_torch_layers(net: torch.nn.Module, seed: int, gain: float) -> None:
    """Every ``Linear``/``Conv2d`` of ``net``: w ~ N(0, 1)·gain/√fan-in, b ~ N(0, 0.1²), from one seeded generator
    in module order."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * gain / np.sqrt(m.weight[0].numel()))
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


def bernoulli_spikes(seed: int, shape: tuple[int, ...], p: float) -> torch.Tensor:
    """Binary float32 spikes of ``shape`` ([N, T, ...]), each 1 with probability ``p``."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < p).float()


def write_fixture(out: Path, name: str, graph: nir.NIRGraph, x: torch.Tensor, spikes: dict[str, np.ndarray],
                  info: dict) -> None:
    """``<name>.nir`` (the exporter's graph), ``<name>.npz`` (x and ``spk__<layer>``) and ``<name>.json``."""
    nir.write(str(out / f"{name}.nir"), graph)
    np.savez_compressed(out / f"{name}.npz", x=x.numpy(), **{f"spk__{k}": v for k, v in spikes.items()})
    (out / f"{name}.json").write_text(json.dumps(info, indent=1) + "\n")
