"""Frame sets that are made batch by batch, so memory does not grow with the number of samples.

A :class:`Frames` behaves like the float32 array [N, T, *shape] it stands for where the simulator,
the calibration passes and the fidelity measurement use it: ``len(x)``, ``x.shape`` and contiguous
slices ``x[i:j]`` (an ``np.ndarray``). Only the requested slice is ever made:

* :func:`synthetic_frames`: the synthetic DVS gestures of :mod:`snnc.data.synthetic`; sample i depends
  only on (seed, stream, i) and its label, so ``synthetic_frames(...)[i:j]`` equals rows i..j of
  ``load_dataset("synthetic", ...)`` bit for bit (the labels, 8 bytes per sample, are kept);
* :func:`bernoulli_frames`: ``(rng.random((N, T, *shape)) < rate)`` drawn slice by slice from the same
  generator state, hence equal to the one-shot draw (NumPy fills in C order);
* :func:`array_frames`: an array already in memory (a file the user gave, a dataset folder).
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from snnc.errors import SnncError


#: frame sets up to this size are made once and kept (calibration probes read them several times)
CACHE_BYTES = 64 * 2**20


class Frames:
    """[N, T, *shape] float32 frames made on demand by ``make(start, stop)`` (module docstring); a set of at
    most :data:`CACHE_BYTES` is made whole on first use and kept."""

    def __init__(self, n: int, T: int, shape: tuple[int, ...], make: Callable[[int, int], np.ndarray],
                 labels: np.ndarray | None = None) -> None:
        self.n, self.T, self.frame_shape, self._make, self.labels = int(n), int(T), tuple(shape), make, labels
        self._whole: np.ndarray | None = None
        self._keep = self.n * frame_bytes(self.T, self.frame_shape) <= CACHE_BYTES

    def __len__(self) -> int:
        return self.n

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n, self.T, *self.frame_shape)

    @property
    def ndim(self) -> int:
        return 2 + len(self.frame_shape)

    dtype = np.dtype(np.float32)

    def __getitem__(self, key) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("Frames supports contiguous slices x[i:j] only")
        start, stop, _ = key.indices(self.n)
        if stop <= start:
            return np.zeros((0, self.T, *self.frame_shape), np.float32)
        if self._keep:
            if self._whole is None:
                self._whole = self._make(0, self.n)
            return self._whole[start:stop]
        return self._make(start, stop)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        x = self[0:self.n]
        return x if dtype is None else x.astype(dtype)

    def batches(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """(start, frames[start:start + size]) in order."""
        for i in range(0, self.n, size):
            yield i, self[i:i + size]


def frame_bytes(T: int, shape: tuple[int, ...]) -> int:
    """Bytes of one sample's float32 frames [T, *shape]."""
    return 4 * int(T) * int(np.prod(shape, dtype=np.float64))


def synthetic_frames(split: str, n: int, T: int, seed: int) -> Frames:
    """The synthetic DVS gestures of ``split`` ("train" or "test"), made per slice."""
    from snnc.data import _SPLITS
    from snnc.data.frames import events_to_frames
    from snnc.data.synthetic import DURATION_US, SIZE, generate_sample, synthetic_labels

    if split not in _SPLITS:
        raise SnncError(f"split {split!r}: must be 'train' or 'test'")
    if not isinstance(T, int) or T <= 0:
        raise SnncError(f"T: must be a positive integer, got {T!r}")
    if not n or n <= 0:
        raise SnncError(f"synthetic dataset: number of samples must be positive, got {n!r}")
    stream = _SPLITS[split]
    from snnc.compiler.analysis.memory import require

    require(40.0 * n, f"{n} synthetic samples", "drawing their balanced labels (40 bytes per sample)")
    labels = synthetic_labels(n, seed, stream)

    def make(start: int, stop: int) -> np.ndarray:
        return np.stack([events_to_frames(generate_sample(int(labels[i]), np.random.default_rng([seed, stream, i])),
                                          T, SIZE, SIZE, 0, DURATION_US) for i in range(start, stop)])

    return Frames(n, T, (2, SIZE, SIZE), make, labels)


def bernoulli_frames(n: int, T: int, shape: tuple[int, ...], rate: float, seed) -> Frames:
    """``(default_rng(seed).random((n, T, *shape)) < rate)`` as float32, made slice by slice."""
    state = {"rng": np.random.default_rng(seed), "at": 0}

    def make(start: int, stop: int) -> np.ndarray:
        if start != state["at"]:  # out of order: replay the generator up to ``start``
            state["rng"], state["at"] = np.random.default_rng(seed), 0
            while state["at"] < start:
                k = min(start - state["at"], 64)
                state["rng"].random((k, T, *shape))
                state["at"] += k
        x = (state["rng"].random((stop - start, T, *shape)) < rate).astype(np.float32)
        state["at"] = stop
        return x

    return Frames(n, T, tuple(shape), make, None)


def array_frames(x: np.ndarray, labels: np.ndarray | None = None) -> Frames:
    """Frames over an array [N, T, *shape] (converted to float32 per slice)."""
    return Frames(len(x), int(x.shape[1]), tuple(x.shape[2:]),
                  lambda a, b: np.asarray(x[a:b], dtype=np.float32), labels)
