"""LIF-SNN-5 (ASA-SNN ``models/Net2.py``, arch B, after Fang et al.'s PLIF network).

    b0      Conv w0 3x3 (no bias) -> BN -> attn -> PLIF
    b1..b4  MaxPool 2 (on spikes) -> Conv w_i 3x3 (no bias) -> BN -> attn -> PLIF
    b5      MaxPool 2 -> flatten -> Linear fc_hidden -> PLIF          (dropout p on the input)
    b6      Linear vote * num_classes -> PLIF                          (dropout p on the input)
    readout: ("vote", 10): mean over T, then mean over groups of 10 output neurons

PLIF: k = sigmoid(w), k = 0.5 at init, beta = 1 - k, gain = k, v_th 1, reset to 0. ASA uses r = 1
(the released net builds ``ASA(T, C)`` whatever ``-reduction`` says). The released net uses an
ATan surrogate; snnc uses the rectangular one everywhere.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from snnc.models.attention import ATTENTION_DEFAULTS, make_attention
from snnc.models.blocks import ConvBlock, FCBlock, config_sizes
from snnc.models.lif import PLIF
from snnc.models.network import SpikingNet

DEFAULTS: dict[str, Any] = {
    "model": "lif-snn-5", "attention": "asa", "T": 20, "in_channels": 2, "input_size": [128, 128],
    "num_classes": 11, "widths": [128, 128, 128, 128, 128], "fc_hidden": 512, "vote": 10,
    "reduction": 1, "lam": 0.5, "v_th": 1.0, "dropout": 0.5,
    **ATTENTION_DEFAULTS,
}


def build_lif_snn5(config: dict[str, Any]) -> SpikingNet:
    """Build LIF-SNN-5 from a complete config (see ``DEFAULTS``)."""
    c = config
    widths, h, w = config_sizes(c, 5, "lif-snn-5 needs 5 conv widths")
    p, vote = float(c["dropout"]), int(c["vote"])

    def plif() -> PLIF:
        return PLIF(v_th=c["v_th"])

    blocks: list[nn.Module] = []
    in_ch = int(c["in_channels"])
    for i, width in enumerate(widths):
        attn = make_attention(c, width)
        inpool = nn.MaxPool2d(2) if i > 0 else None
        blocks.append(ConvBlock(nn.Conv2d(in_ch, width, 3, padding=1, bias=False), plif(), bn=True,
                                inpool=inpool, attn=attn))
        in_ch = width
    features = widths[4] * (h // 32) * (w // 32)
    if features == 0:
        raise ValueError(f"lif-snn-5 input_size {c['input_size']} is too small (needs >= 32x32)")
    # dropout on the FC inputs only (released: layer.Dropout before each Linear)
    blocks.append(FCBlock(nn.Linear(features, int(c["fc_hidden"])), plif(), flatten=True, inpool=nn.MaxPool2d(2),
                          dropout=p, dropout_out=0.0))
    blocks.append(FCBlock(nn.Linear(int(c["fc_hidden"]), vote * int(c["num_classes"])), plif(), dropout=p,
                          dropout_out=0.0))
    return SpikingNet(blocks, ("vote", vote), c)
