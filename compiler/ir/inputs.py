"""The one check of a run's input frames x [N, T, *in_shape]: every backend and the app call it.

Errors name the value (``what``, e.g. ``"input"`` or a data file), never a CLI flag; a backend passes
what it needs beyond shape and finiteness: ``fixed`` (integer frames: spikes or event counts),
``max_abs`` (a bound its exactness rests on) and ``max_T`` (the length of a TimeGain schedule).
"""

from __future__ import annotations

import numpy as np

from snnc.errors import SnncError


def check_input_shape(shape, in_shape, what: str = "input") -> None:
    """SnncError unless ``shape`` is [N, T, *in_shape] with N, T ≥ 1."""
    shape, in_shape = tuple(shape), tuple(in_shape)
    if len(shape) != 2 + len(in_shape) or shape[2:] != in_shape or min(shape[:2]) < 1:
        raise SnncError(f"{what}: expected frames of shape [N, T, {', '.join(map(str, in_shape))}], got "
                        f"{list(shape)} (does not match the graph's input)")


def check_input(x, in_shape, what: str = "input", *, fixed: bool = False, max_abs: float | None = None,
                max_T: int | None = None) -> np.ndarray:
    """x (array or torch tensor) as a NumPy array [N, T, *in_shape]; one-line SnncError naming ``what`` for
    a non-numeric dtype, a wrong shape, NaN/inf, and (``fixed``) non-integer values or |x| > ``max_abs``,
    or T > ``max_T``."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise SnncError(f"{what}: dtype {x.dtype} is not numeric")
    check_input_shape(x.shape, in_shape, what)
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise SnncError(f"{what}: contains NaN or infinite values")
    if fixed and (np.any(x != np.round(x)) or (max_abs is not None and np.max(np.abs(x), initial=0) > max_abs)):
        bound = f" with |x| <= {max_abs}" if max_abs is not None else ""
        raise SnncError(f"{what}: a fixed-point graph needs integer frames (spikes or event counts){bound}")
    if max_T is not None and x.shape[1] > max_T:
        raise SnncError(f"{what}: T = {x.shape[1]} exceeds the TimeGain length {max_T}")
    return x
