"""Attention choices of a conv block, each over the whole window, multiplying the LIF input current:

- ``"none"``: the vanilla SNN;
- ``"asa"``: ASA (ICCV 2023; :mod:`snnc.models.asa`), with the supplement's ablation options
  ``squeeze`` (s5, s7, s8), ``excitation`` (mlp, eca, simam) and ``reduction`` r;
- ``"ta"``, ``"ca"``, ``"sa"``, ``"tcsa"``: MA-SNN's temporal, channel, spatial attention and their
  composition (:mod:`snnc.models.ma_attention`), with ``t_ratio``, ``c_ratio``, ``sa_kernel``.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from snnc.models.asa import ASA
from snnc.models.asa_scores import EXCITATIONS, SQUEEZES
from snnc.models.ma_attention import KINDS, MultiDimAttention

ATTENTIONS = ("none", "asa", *KINDS)

#: the attention options every model config carries (released values; t/c ratios of MA-SNN's Gesture config)
ATTENTION_DEFAULTS: dict[str, Any] = {"squeeze": "s5", "excitation": "mlp", "t_ratio": 5, "c_ratio": 8, "sa_kernel": 3}


def check_attention_options(config: dict[str, Any]) -> str | None:
    """A problem with the attention options of a complete config, or None."""
    if config["attention"] not in ATTENTIONS:
        return f"attention {config['attention']!r}: unknown; valid: {', '.join(ATTENTIONS)}"
    if config["squeeze"] not in SQUEEZES:
        return f"squeeze {config['squeeze']!r}: unknown; valid: {', '.join(SQUEEZES)}"
    if config["excitation"] not in EXCITATIONS:
        return f"excitation {config['excitation']!r}: unknown; valid: {', '.join(EXCITATIONS)}"
    for key in ("t_ratio", "c_ratio", "reduction"):
        v = config[key]
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 4096:
            return f"{key}: must be an integer in [1, 4096], got {v!r}"
    if config["sa_kernel"] not in (3, 7):
        return f"sa_kernel: must be 3 or 7, got {config['sa_kernel']!r}"
    return None


def make_attention(config: dict[str, Any], channels: int) -> nn.Module | None:
    """The attention module of a complete model ``config`` for a conv block with ``channels`` outputs, or None."""
    kind, T = config["attention"], int(config["T"])
    if kind == "none":
        return None
    if kind == "asa":
        return ASA(T, channels, reduction=int(config["reduction"]), lam=float(config["lam"]),
                   squeeze=config["squeeze"], excitation=config["excitation"])
    if kind in KINDS:
        return MultiDimAttention(T, channels, KINDS[kind], t_ratio=int(config["t_ratio"]),
                                 c_ratio=int(config["c_ratio"]), kernel_size=int(config["sa_kernel"]))
    raise ValueError(f"unknown attention {kind!r}; valid: {', '.join(ATTENTIONS)}")
