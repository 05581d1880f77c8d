"""LIF-SNN-3, as released (ASA-SNN ``models/Net.py``, arch A).

    L1  Conv w0 3x3 (bias) -> BN -> attn -> LIF
    L2  Conv w1 3x3 (bias) -> BN -> AvgPool 2 -> attn -> LIF
    L3  Conv w2 3x3 (bias) -> BN -> AvgPool 2 -> attn -> LIF      (dropout p)
    FC1 flatten (C, H, W) -> Linear fc_hidden -> LIF             (dropout p)
    FC2 Linear num_classes -> LIF                                  (dropout p)
    readout: mean over T of FC2 spikes

LIF: U_t = beta U_{t-1} (1 - S_{t-1}) + X_t, S_t = [U_t >= v_th]; released beta = v_th = 0.3.
Released sizes: T 60, input 2x32x32, widths (64, 128, 128), fc_hidden 256, 11 classes, r 4, p 0.1.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from snnc.models.attention import ATTENTION_DEFAULTS, make_attention
from snnc.models.blocks import ConvBlock, FCBlock, config_sizes
from snnc.models.lif import LIF
from snnc.models.network import SpikingNet

DEFAULTS: dict[str, Any] = {
    "model": "lif-snn-3", "attention": "asa", "T": 60, "in_channels": 2, "input_size": [32, 32],
    "num_classes": 11, "widths": [64, 128, 128], "fc_hidden": 256, "reduction": 4, "lam": 0.5,
    "v_th": 0.3, "beta": 0.3, "dropout": 0.1,
    **ATTENTION_DEFAULTS,
}


def build_lif_snn3(config: dict[str, Any]) -> SpikingNet:
    """Build LIF-SNN-3 from a complete config (see ``DEFAULTS``)."""
    c = config
    widths, h, w = config_sizes(c, 3, "lif-snn-3 needs 3 conv widths")
    p = float(c["dropout"])

    def lif() -> LIF:
        return LIF(beta=c["beta"], v_th=c["v_th"])

    blocks: list[nn.Module] = []
    in_ch = int(c["in_channels"])
    for i, width in enumerate(widths):
        pool = nn.AvgPool2d(2) if i > 0 else None
        attn = make_attention(c, width)
        blocks.append(ConvBlock(nn.Conv2d(in_ch, width, 3, padding=1, bias=True), lif(), bn=True, pool=pool,
                                attn=attn, dropout=p if i == 2 else 0.0))
        in_ch = width
    features = widths[2] * (h // 4) * (w // 4)
    blocks.append(FCBlock(nn.Linear(features, int(c["fc_hidden"])), lif(), flatten=True, dropout=p))
    blocks.append(FCBlock(nn.Linear(int(c["fc_hidden"]), int(c["num_classes"])), lif(), dropout=p))
    return SpikingNet(blocks, "mean", c)
