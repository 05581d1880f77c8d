"""DVS128 Gesture from a local folder in tonic's layout (nothing is downloaded).

Accepted layouts of ``root`` (files found by sorted listing, so the order never depends on the
filesystem): ``root/ibmGestureTrain/user*/<label>.npy`` and ``root/ibmGestureTest/...``
(also under ``root/DVSGesture/``), or ``root/user*/<label>.npy`` split by subject (users 1-23
train, 24-29 test). Each ``.npy`` is an (N, 4) array with columns x, y, p, t [ms] (tonic's copy);
labels 0..10 come from the file name.

The original IBM release is read too: if ``root`` holds ``trials_to_train.txt`` /
``trials_to_test.txt`` (one ``userNN_<lighting>.aedat`` per line), every row of each trial's
``_labels.csv`` is one sample (AEDAT 3.1, see :mod:`snnc.data.aedat`), in file order.

Preprocessing as ASA-SNN's LIF-SNN-3 pipeline: one window of T bins of dt = 15 ms, coordinates
floor-divided by 4 (128 -> 32), event counts, bins anchored at the window's first event. Training
windows start at a seeded uniformly random time in [t_first, t_last - T dt) (the first event if the
recording is shorter); test windows start at the first event. The released test protocol (10
windows per recording, majority vote) is :func:`load_dvs_gesture_clips` + ``snnc.train.evaluate_clips``
(not used by ``snnc train``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from snnc.data.frames import events_to_frames
from snnc.data.synthetic import EVENT_DTYPE
from snnc.errors import SnncError

SENSOR = 128
NUM_CLASSES = 11
DT_US = 15_000
DOWNSAMPLE = 4
_USER = re.compile(r"^user(\d+)")


def _split_dirs(root: Path, split: str) -> list[Path]:
    sub = {"train": "ibmGestureTrain", "test": "ibmGestureTest"}[split]
    for base in (root, root / "DVSGesture"):
        if (base / sub).is_dir():
            return sorted(d for d in (base / sub).iterdir() if d.is_dir() and _USER.match(d.name))
    users = sorted(d for d in root.iterdir() if d.is_dir() and _USER.match(d.name))
    wanted = range(1, 24) if split == "train" else range(24, 30)
    return [d for d in users if int(_USER.match(d.name).group(1)) in wanted]


def list_recordings(root: str | Path, split: str) -> list[tuple[Path, int]]:
    """Sorted (file, label) pairs of a split; SnncError if the folder is missing or malformed."""
    root = Path(root)
    if root.is_file():
        raise SnncError(f"dataset {str(root)!r}: a file, not a dataset folder; expected 'synthetic' or a DVS128 "
                        "Gesture folder (user*/<label>.npy, or the IBM release with trials_to_train.txt)")
    if not root.is_dir():
        raise SnncError(f"dataset {str(root)!r}: folder does not exist")
    if split not in ("train", "test"):
        raise SnncError(f"split {split!r}: must be 'train' or 'test'")
    items = []
    for d in _split_dirs(root, split):
        for f in sorted(d.glob("*.npy"), key=lambda p: (len(p.stem), p.stem)):
            if not f.stem.isdigit() or not 0 <= int(f.stem) < NUM_CLASSES:
                raise SnncError(f"dataset file {str(f)!r}: name must be <label>.npy with label 0..10")
            items.append((f, int(f.stem)))
    if not items:
        raise SnncError(f"dataset {str(root)!r}: no {split} recordings (expected user*/<label>.npy, "
                        "optionally under ibmGestureTrain/ and ibmGestureTest/)")
    return items


def read_recording(path: Path) -> np.ndarray:
    """Events (EVENT_DTYPE, t in us, sorted) of one tonic-style ``.npy`` file (x, y, p, t [ms])."""
    try:
        raw = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise SnncError(f"dataset file {str(path)!r}: cannot read ({e})") from None
    if raw.ndim != 2 or raw.shape[1] != 4 or raw.shape[0] == 0:
        raise SnncError(f"dataset file {str(path)!r}: expected a non-empty (N, 4) array, got shape {raw.shape}")
    _check_events(raw, path)
    ev = np.empty(raw.shape[0], dtype=EVENT_DTYPE)
    ev["x"], ev["y"], ev["p"] = raw[:, 0], raw[:, 1], raw[:, 2] > 0
    ev["t"] = np.round(raw[:, 3].astype(np.float64) * 1000).astype(np.int64)
    return ev[np.argsort(ev["t"], kind="stable")]


def _check_events(raw: np.ndarray, path: Path) -> None:
    """Numeric, finite events with x, y on the 128 x 128 sensor and t >= 0 (ms); p > 0 is ON."""
    where = f"dataset file {str(path)!r}"
    if raw.dtype.kind not in "biuf":
        raise SnncError(f"{where}: dtype {raw.dtype}; expected numeric columns x, y, p, t")
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        raise SnncError(f"{where}: events contain NaN or infinite values")
    for col, name, hi in ((0, "x", SENSOR), (1, "y", SENSOR)):
        v = raw[:, col]
        if (v < 0).any() or (v >= hi).any() or (v != np.floor(v)).any():
            bad = v[(v < 0) | (v >= hi) | (v != np.floor(v))][0]
            raise SnncError(f"{where}: event {name} = {bad:g} is outside the sensor (integers in [0, {hi}))")
    t = raw[:, 3].astype(np.float64)
    if (t < 0).any() or (t > 2.0**53 / 1000).any():
        raise SnncError(f"{where}: timestamps must be in [0, 9e12] ms")


def recording_frames(ev: np.ndarray, T: int, rng: np.random.Generator | None) -> np.ndarray:
    """One (T, 2, 32, 32) count window: random start if ``rng`` is given, else the first event."""
    t_first, t_last, span = int(ev["t"][0]), int(ev["t"][-1]), T * DT_US
    start = t_first
    if rng is not None and t_last - span > t_first:
        start = int(rng.integers(t_first, t_last - span))
    t0 = int(ev["t"][np.searchsorted(ev["t"], start)])  # anchor at the window's first event
    size = SENSOR // DOWNSAMPLE
    return events_to_frames(ev, T, size, size, t0, t0 + span, downsample=DOWNSAMPLE)


def aedat_samples(root: Path, split: str, n: int | None):
    """(events, label) per gesture of the AEDAT trials listed in ``trials_to_<split>.txt``."""
    from snnc.data.aedat import cut_gestures, read_aedat31, read_labels_csv

    listing = root / f"trials_to_{split}.txt"
    trials = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    count = 0
    for name in trials:
        path = root / name
        labels = path.with_name(path.stem + "_labels.csv")
        if not path.is_file() or not labels.is_file():
            raise SnncError(f"{listing}: trial {name!r} has no {path.name} and {labels.name} in {str(root)!r}")
        for ev, label in cut_gestures(read_aedat31(path), read_labels_csv(labels)):
            if n and count >= n:
                return
            if len(ev) == 0:
                raise SnncError(f"{path}: gesture with label {label} has no events")
            count += 1
            yield ev, label


def load_dvs_gesture(root: str | Path, split: str, n: int | None, T: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames float32 [N, T, 2, 32, 32], labels int64) of the first ``n`` samples in sorted order."""
    root = Path(root)
    rng = np.random.default_rng(seed) if split == "train" else None
    if root.is_dir() and split in ("train", "test") and (root / f"trials_to_{split}.txt").is_file():
        samples = list(aedat_samples(root, split, n))
    else:
        samples = [(read_recording(f), lab) for f, lab in list_recordings(root, split)[: n if n else None]]
    if not samples:
        raise SnncError(f"dataset {str(root)!r}: no {split} samples")
    frames = np.stack([recording_frames(ev, T, rng) for ev, _ in samples])
    return frames, np.array([lab for _, lab in samples], dtype=np.int64)


def clip_starts(t_first: int, t_last: int, window: int, clips: int = 10) -> list[int]:
    """Start times of the released code's ``clips`` test windows of length ``window`` (us).

    D = t_last - t_first. If clips * window > D the windows overlap by o = floor((clips W - D) / clips)
    and start at t_first + j (W - o); otherwise they are spaced by o = floor((D - clips W) / clips) and
    start at t_first + j (W + o). A window that would end after t_last is shifted back to end there.
    """
    duration = t_last - t_first
    if clips * window > duration:
        step = window - (clips * window - duration) // clips
    else:
        step = window + (duration - clips * window) // clips
    return [max(t_first, min(t_first + j * step, t_last - window)) for j in range(clips)]


def load_dvs_gesture_clips(root: str | Path, split: str, n: int | None, T: int,
                           clips: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The released test protocol: (frames [R, clips, T, 2, 32, 32], labels [R]) per recording.

    Each window's bins are anchored at its first event. A recording is classified correctly when
    more than half of its windows are (see :func:`snnc.train.evaluate_clips`).
    """
    items = list_recordings(root, split)[: n if n else None]
    size = SENSOR // DOWNSAMPLE
    out = []
    for f, _ in items:
        ev = read_recording(f)
        frames = []
        for start in clip_starts(int(ev["t"][0]), int(ev["t"][-1]), T * DT_US, clips):
            i = min(int(np.searchsorted(ev["t"], start)), len(ev) - 1)
            t0 = int(ev["t"][i])
            frames.append(events_to_frames(ev, T, size, size, t0, t0 + T * DT_US, downsample=DOWNSAMPLE))
        out.append(np.stack(frames))
    return np.stack(out), np.array([lab for _, lab in items], dtype=np.int64)
