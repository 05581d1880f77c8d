"""Shared fixtures of the CPU simulator tests: one torch thread, seeded; tiny model configs."""

from __future__ import annotations

import pytest
import torch

#: tiny configs of every model family (fast; every layer is rescaled to fire ~10 %)
TINY_CONFIGS = {
    "lif-snn-3": dict(model="lif-snn-3", T=6, widths=[4, 8, 8], fc_hidden=16, num_classes=4, input_size=[16, 16],
                      reduction=2, dropout=0.0),
    "lif-snn-5": dict(model="lif-snn-5", T=5, widths=[4, 4, 4, 4, 4], fc_hidden=20, num_classes=2, vote=10,
                      input_size=[32, 32], dropout=0.0),
    "res-snn-18": dict(model="res-snn-18", T=4, widths=[4, 4, 8, 8], num_classes=5, input_size=[32, 32]),
}


@pytest.fixture(autouse=True)
def _single_thread_torch():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def _tiny_model(family: str, attention: str = "asa", n: int = 3, seed: int = 0):
    """(model in eval mode rescaled to ~10 % firing, input spikes x [n, T, 2, H, W])."""
    from snnc.models.activity import scale_to_rate
    from snnc.models import build_model

    torch.manual_seed(seed)
    cfg = dict(TINY_CONFIGS[family], attention=attention)
    model = build_model(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, cfg["T"], 2, *cfg["input_size"], generator=g) < 0.2).float()
    scale_to_rate(model, x)
    return model, x


@pytest.fixture
def tiny_model():
    """``tiny_model(family, attention="asa", n=3, seed=0) -> (model, x)``."""
    return _tiny_model
