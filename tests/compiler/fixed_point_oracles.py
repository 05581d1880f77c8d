"""Test-only compositions of :mod:`snnc.compiler.fixed_point` (moved out of the library: no code path of
snnc calls them). Each is built from the library functions that do run, so the tests exercise those."""

from __future__ import annotations

import numpy as np

from snnc.compiler.fixed_point import W_MAX, max_weight_scale, weights_to_int, wrap_int32


def encode_weights(w: np.ndarray, scale: float | None = None, *, clip: bool = False,
                   percentile: float | None = None) -> tuple[np.ndarray, float]:
    """(w_int, scale): 8-bit signed even mantissas with w_int ≈ w·scale, as ``quantize`` encodes them.

    Without ``scale``, :func:`max_weight_scale` chooses it (|w|max·s = 254, or that percentile of |w| mapped
    to 254; then ``clip`` must be set). Raises ``ValueError`` when weights overflow and ``clip`` is false.
    """
    if scale is None:
        scale = max_weight_scale(w, percentile)
    w_int, n = weights_to_int(w, scale, clip)
    if n and not clip:
        raise ValueError(f"{n} weight(s) overflow 8 bits at scale {scale:g} (|w|·scale > {W_MAX})")
    return w_int, float(scale)


def dense_accumulate(w_eff: np.ndarray, s: np.ndarray, weight_exp: int = 0, graded: bool = False) -> np.ndarray:
    """Lava's bit-accurate Dense: a = W·[s ≠ 0] (or W·s if ``graded``), shifted by ``weight_exp``; int32
    as Lava sends it. ``s`` may carry leading batch axes: [..., n_in] -> [..., n_out]."""
    x = np.asarray(s)
    x = x.astype(np.int64) if graded else (x != 0).astype(np.int64)
    a = x @ np.asarray(w_eff, np.int64).T
    a = a << weight_exp if weight_exp > 0 else a >> -weight_exp
    return wrap_int32(a)
