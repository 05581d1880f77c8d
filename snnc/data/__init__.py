"""Event data: the synthetic DVS-gesture generator, DVS128 Gesture from a folder, framing.

``load_dataset(name_or_path, split, n, T, seed)`` returns (frames float32 [N, T, 2, H, W],
labels int64): ``"synthetic"`` (32x32, 8 classes, the window [0, 0.5 s) in T bins; train and
test splits are independent streams of the same seed) or a DVS128 Gesture folder (32x32,
11 classes, T bins of 15 ms), or ``"synthetic-hard"`` (:mod:`snnc.data.synthetic_hard`: DVS128-Gesture-like
events on 128x128 binned to 32x32, 11 direction/order-paired classes, jitter, noise and distractor bursts; the
window [0, 0.9 s) in T bins). Nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from snnc.errors import SnncError

__all__ = ["load_dataset", "dataset_classes", "dataset_frame_size"]

_SPLITS = {"train": 0, "test": 1}


def dataset_classes(name_or_path: str) -> int:
    """Number of classes of a dataset."""
    from snnc.data import dvs_gesture, synthetic, synthetic_hard

    if name_or_path == "synthetic-hard":
        return len(synthetic_hard.CLASSES)
    return len(synthetic.CLASSES) if name_or_path == "synthetic" else dvs_gesture.NUM_CLASSES


def dataset_frame_size(name_or_path: str) -> tuple[int, int]:
    """(H, W) of the frames of a dataset (32 x 32 for both the synthetic data and DVS Gesture)."""
    from snnc.data import dvs_gesture, synthetic

    if name_or_path == "synthetic":
        return synthetic.SIZE, synthetic.SIZE
    size = dvs_gesture.SENSOR // dvs_gesture.DOWNSAMPLE
    return size, size


def load_dataset(name_or_path: str, split: str, n: int | None, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(frames float32 [N, T, 2, H, W], labels int64) of ``split`` ("train" or "test")."""
    if split not in _SPLITS:
        raise SnncError(f"split {split!r}: must be 'train' or 'test'")
    if not isinstance(T, int) or T <= 0:
        raise SnncError(f"T: must be a positive integer, got {T!r}")
    if name_or_path == "synthetic":
        from snnc.data.frames import events_to_frames
        from snnc.data.synthetic import DURATION_US, SIZE, synthetic_events

        if not n or n <= 0:
            raise SnncError(f"synthetic dataset: number of samples must be positive, got {n!r}")
        from snnc.compiler.analysis.memory import require

        require(2.0 * 4 * n * T * 2 * SIZE * SIZE, f"synthetic {split} set ({n} samples, T = {T})",
                "holding its frames")
        events, labels = synthetic_events(n, seed, _SPLITS[split])
        frames = np.stack([events_to_frames(ev, T, SIZE, SIZE, 0, DURATION_US) for ev in events])
        return frames, labels
    if name_or_path == "synthetic-hard":
        return _load_hard(split, n, T, seed)
    from snnc.data.dvs_gesture import load_dvs_gesture

    return load_dvs_gesture(name_or_path, split, n, T, seed)


def _load_hard(split: str, n: int | None, T: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``synthetic-hard`` frames of ``split`` (train and test: independent streams of ``seed``)."""
    from snnc.compiler.analysis.memory import require
    from snnc.data.synthetic_hard import SIZE, hard_frames

    if not n or n <= 0:
        raise SnncError(f"synthetic-hard dataset: number of samples must be positive, got {n!r}")
    require(4 * n * T * 2 * SIZE * SIZE, f"synthetic-hard {split} set ({n} samples, T = {T})", "holding its frames")
    return hard_frames(n, T, seed, _SPLITS[split])
