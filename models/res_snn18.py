"""Res-SNN-18: SEW-ResNet-18 (Fang et al., NeurIPS 2021) with ADD connections, as used on HAR-DVS.

    b0       stem: Conv w0 7x7 stride 2 pad 3 (no bias) -> BN -> LIF
    b1..b8   4 stages x 2 BasicBlocks (widths w0..w3; stage strides 1, 2, 2, 2); b1 has
             ``inpool`` = MaxPool 3 stride 2 pad 1 on the stem spikes. BasicBlock:
             conv1 = Conv 3x3 -> BN -> attn -> LIF, conv2 = Conv 3x3 -> BN -> attn -> LIF,
             down = Conv 1x1 stride 2 -> BN -> LIF when the shape changes; out = conv2 + shortcut
    b9       ``inpool`` = AvgPool over the whole map (adaptive average pool) -> flatten -> Linear
             num_classes -> LIF; readout mean over T.

LIF: beta 0.5, v_th 1, reset to 0 (Table S6). Attention (ASA, r = 2) sits after BN and before
the LIF of both convs of every BasicBlock, not in the stem or the shortcut.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from snnc.models.attention import ATTENTION_DEFAULTS, make_attention
from snnc.models.blocks import ConvBlock, FCBlock, ResidualBlock, config_sizes
from snnc.models.lif import LIF
from snnc.models.network import SpikingNet

DEFAULTS: dict[str, Any] = {
    "model": "res-snn-18", "attention": "asa", "T": 8, "in_channels": 2, "input_size": [128, 128],
    "num_classes": 300, "widths": [64, 128, 256, 512], "reduction": 2, "lam": 0.5,
    "v_th": 1.0, "beta": 0.5,
    **ATTENTION_DEFAULTS,
}


def _conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def build_res_snn18(config: dict[str, Any]) -> SpikingNet:
    """Build Res-SNN-18 from a complete config (see ``DEFAULTS``)."""
    c = config
    widths, h, w = config_sizes(c, 4, "res-snn-18 needs 4 stage widths")

    def lif() -> LIF:
        return LIF(beta=c["beta"], v_th=c["v_th"])

    def conv(cin: int, cout: int, stride: int, attention: bool = True) -> ConvBlock:
        attn = make_attention(c, cout) if attention else None
        return ConvBlock(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), lif(), bn=True, attn=attn)

    blocks: list[nn.Module] = [ConvBlock(nn.Conv2d(int(c["in_channels"]), widths[0], 7, 2, 3, bias=False), lif())]
    h, w = _conv_out(h, 7, 2, 3), _conv_out(w, 7, 2, 3)
    h, w = _conv_out(h, 3, 2, 1), _conv_out(w, 3, 2, 1)
    cin = widths[0]
    for stage, width in enumerate(widths):
        for j in range(2):
            stride = 2 if stage > 0 and j == 0 else 1
            down = None
            if stride != 1 or cin != width:
                down = ConvBlock(nn.Conv2d(cin, width, 1, stride, 0, bias=False), lif(), bn=True)
            inpool = nn.MaxPool2d(3, 2, 1) if len(blocks) == 1 else None
            blocks.append(ResidualBlock(conv(cin, width, stride), conv(width, width, 1), down, inpool=inpool))
            if stride == 2:
                h, w = _conv_out(h, 3, 2, 1), _conv_out(w, 3, 2, 1)
            cin = width
    if h < 1 or w < 1:
        raise ValueError(f"res-snn-18 input_size {c['input_size']} is too small")
    blocks.append(FCBlock(nn.Linear(cin, int(c["num_classes"])), lif(), flatten=True, inpool=nn.AvgPool2d((h, w))))
    return SpikingNet(blocks, "mean", c)
