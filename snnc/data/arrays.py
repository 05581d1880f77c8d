"""Frames from a NumPy file the user names (``--data FILE.npy|FILE.npz``), validated on load.

An ``.npy`` holds the frames x; an ``.npz`` holds ``x`` and optionally labels ``y``. Refused, with one
line naming the file and the array:

* x: not numeric (strings, objects), not [N, T, *graph input], no samples, NaN/inf, negative counts;
* y: not 1-D, not one label per sample of x, not integer-valued, outside [0, classes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snnc.data.stream import Frames, array_frames
from snnc.errors import SnncError


def _read(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    where = str(path)
    try:
        blob = np.load(path, allow_pickle=False)
        if isinstance(blob, np.ndarray):
            return blob, None
        with blob:
            if "x" not in blob.files:
                raise SnncError(f"{where}: an .npz needs an array 'x' (frames) and optionally 'y' (labels); "
                                f"found {', '.join(blob.files) or 'nothing'}")
            return blob["x"], (blob["y"] if "y" in blob.files else None)
    except SnncError:
        raise
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise SnncError(f"{where}: cannot read as NumPy data ({type(e).__name__}: {first})") from None


def check_frames(x: np.ndarray, shape: tuple[int, ...], where: str) -> None:
    """x must be finite, non-negative numeric frames [N >= 1, T >= 1, *shape]."""
    if x.dtype.kind not in "biuf":
        raise SnncError(f"{where}: x has dtype {x.dtype}, not numeric; frames are event counts")
    want = ", ".join(map(str, ("N", "T", *shape)))
    if x.ndim != 2 + len(shape) or tuple(x.shape[2:]) != tuple(shape):
        raise SnncError(f"{where}: x has shape {list(x.shape)}, which does not match the graph's input [{want}]")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise SnncError(f"{where}: x has shape {list(x.shape)}: no samples or no timesteps")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise SnncError(f"{where}: x contains NaN or infinite values")
    if x.dtype.kind in "if" and (x < 0).any():
        raise SnncError(f"{where}: x contains negative values; frames are event counts (>= 0)")


def check_labels(y: np.ndarray, n: int, classes: int | None, where: str) -> np.ndarray:
    """One integer label in [0, classes) per sample; returned as int64."""
    if y.dtype.kind not in "biuf":
        raise SnncError(f"{where}: y has dtype {y.dtype}, not numeric; labels must be integers")
    if y.ndim != 1:
        raise SnncError(f"{where}: y has shape {list(y.shape)}; labels must be 1-D, one per sample")
    if len(y) != n:
        raise SnncError(f"{where}: y holds {len(y)} labels for {n} samples of x; give one label per sample")
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise SnncError(f"{where}: y holds NaN, infinite or non-integer labels")
    if len(y) and (y.min() < 0 or (classes is not None and y.max() >= classes)):
        bad = y.min() if y.min() < 0 else y.max()
        span = f"[0, {classes})" if classes is not None else ">= 0"
        raise SnncError(f"{where}: label {bad:g} is outside {span} (the graph has {classes} classes)")
    return y.astype(np.int64)


def load_frames_file(path: str, samples: int, shape: tuple[int, ...], classes: int | None) -> Frames:
    """The first ``samples`` samples of ``path`` (module docstring); labels checked over the whole file."""
    p = Path(path)
    x, y = _read(p)
    check_frames(x, shape, path)
    labels = None if y is None else check_labels(y, len(x), classes, path)[:samples]
    x = x[:samples]
    return array_frames(x, labels)
