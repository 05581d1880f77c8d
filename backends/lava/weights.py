"""Weights as Lava's Conv and Dense processes store them: groups that fit an int8, and the 8-bit range.

Lava stores a Conv's ``groups`` as int8, so groups >= 128 wrap and the conv silently outputs zeros:
:func:`regroup` makes such convs block-diagonal with fewer, wider groups. :func:`check_fixed_weights`
accepts only integer weights Lava uses unchanged (or, asked to clip, exactly Lava's clipped/truncated ones).
"""

from __future__ import annotations

import warnings

import numpy as np

from snnc.compiler.fixed_point import dense_effective_weights
from snnc.errors import SnncError

MAX_GROUPS = 127  # Lava's Conv keeps groups in an int8
WEIGHT_MIN, WEIGHT_MAX = -256, 255


def regroup(w: np.ndarray, groups: int) -> tuple[np.ndarray, int]:
    """Block-diagonal weights with groups/m < 128 groups (m the smallest divisor that works)."""
    if groups <= MAX_GROUPS:
        return w, groups
    m = next(m for m in range(2, groups + 1) if groups % m == 0 and groups // m <= MAX_GROUPS)
    c_out, c_in_per = w.shape[0], w.shape[1]
    out_per = c_out // groups
    big = np.zeros((c_out, c_in_per * m) + w.shape[2:], w.dtype)
    for o in range(c_out):
        j = (o // out_per) % m
        big[o, j * c_in_per:(j + 1) * c_in_per] = w[o]
    return big, groups // m


def check_fixed_weights(name: str, w: np.ndarray, dense: bool, clip: bool) -> np.ndarray:
    """Integer weights Lava uses unchanged; else SnncError naming the layer, or (``clip``) a warning.

    Dense: Lava's bit-accurate Dense clips by sign mode and drops the LSB of mixed-sign matrices
    (:func:`snnc.compiler.fixed_point.dense_effective_weights`); Conv: 8-bit signed range.
    """
    if np.any(w != np.round(w)):
        raise SnncError(f"lava: layer {name!r}: fixed-point weights must be integers (run quantize)")
    w = np.round(w).astype(np.int64)
    eff = dense_effective_weights(w) if dense else np.clip(w, WEIGHT_MIN, WEIGHT_MAX)
    bad = (w < WEIGHT_MIN) | (w > WEIGHT_MAX)
    changed = eff != w
    n_bad, n_lsb = int(bad.sum()), int((changed & ~bad).sum())
    if (n_bad or n_lsb) and not clip:
        what = [f"{n_bad} weight(s) outside 8 bits" if n_bad else "",
                f"{n_lsb} odd mixed-sign Dense weight(s) Lava would truncate" if n_lsb else ""]
        raise SnncError(f"lava: layer {name!r}: {' and '.join(x for x in what if x)}; re-quantize or pass "
                        "clip_weights=True (--clip-weights)")
    if n_bad or n_lsb:
        warnings.warn(f"lava: layer {name!r}: clipped {n_bad} weight(s) to 8 bits, truncated {n_lsb} LSB(s) as Lava does")
    return eff
