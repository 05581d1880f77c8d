"""A deterministic synthetic DVS-gesture-like event dataset (NumPy only).

Eight classes mimic DVS Gesture's waves, arm rotations and claps:

    0 right, 1 left, 2 down, 3 up   a bar translating perpendicular to its long axis
    4 cw, 5 ccw                     a bar (an "arm") rotating about a point near the centre
    6 expand, 7 contract            a ring whose radius grows or shrinks

Per sample, drawn once: centre +- size/8, bar length 0.45-0.75 size, width 2-4 px, travel
0.45-0.7 size, tilt +- 0.2 rad, rotation 0.6-1.1 pi from a random start angle. A soft-edged
intensity movie I_k (k = 0..SUBSTEPS) is rendered; each pixel emits floor(|D|/0.15) events of
polarity D > 0 for D = log(0.1 + I_k) - log(0.1 + I_{k-1}), with timestamps uniform inside the
sub-step (ON events at leading edges, OFF at trailing ones, as a DVS). Then 10% of events are
dropped, 2 Hz/pixel Poisson background noise with random polarity is added, and events are sorted
by t. Events use tonic's DVSGesture dtype (x, y, p, t [us]); sensor (W, H, P) = (32, 32, 2).

Sample i of (n, seed, stream) is drawn from ``np.random.default_rng([seed, stream, i])``, so the
same arguments give identical arrays, and different seeds/streams give independent samples.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("right", "left", "down", "up", "cw", "ccw", "expand", "contract")
EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
SIZE = 32
SENSOR_SIZE = (SIZE, SIZE, 2)  # (W, H, P), tonic's convention
DURATION_US = 500_000
SUBSTEPS = 32
THRESHOLD = 0.15
DROP = 0.10
NOISE_HZ = 2.0


def _bar(xx, yy, cx, cy, theta, length, width):
    """Soft (1 px anti-aliased) bar centred at (cx, cy) with its long axis at angle theta."""
    dx, dy = xx - cx, yy - cy
    along = dx * np.cos(theta) + dy * np.sin(theta)
    across = -dx * np.sin(theta) + dy * np.cos(theta)
    return np.clip(0.5 + width / 2 - np.abs(across), 0, 1) * np.clip(0.5 + length / 2 - np.abs(along), 0, 1)


def _movie(label: int, rng: np.random.Generator, size: int) -> np.ndarray:
    """Intensity frames (SUBSTEPS + 1, size, size) in [0, 1] for one sample of class ``label``."""
    s = np.linspace(0.0, 1.0, SUBSTEPS + 1)[:, None, None]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    cx, cy = size / 2 + rng.uniform(-size / 8, size / 8, 2)
    length = rng.uniform(0.45, 0.75) * size
    width = rng.uniform(2.0, 4.0)
    travel = rng.uniform(0.45, 0.7) * size
    tilt = rng.uniform(-0.2, 0.2)
    if label < 4:
        direction = (0.0, np.pi, np.pi / 2, -np.pi / 2)[label] + tilt
        offset = (s - 0.5) * travel
        px, py = cx + offset * np.cos(direction), cy + offset * np.sin(direction)
        return _bar(xx, yy, px, py, direction + np.pi / 2, length, width)
    if label < 6:
        start = rng.uniform(0, 2 * np.pi)
        sweep = rng.uniform(0.6, 1.1) * np.pi * (1 if label == 4 else -1)
        theta = start + sweep * s
        arm = length / 2
        return _bar(xx, yy, cx + arm * np.cos(theta), cy + arm * np.sin(theta), theta, length, width)
    r_small, r_large = 0.1 * size, 0.1 * size + travel * 0.6
    radius = r_small + (r_large - r_small) * (s if label == 6 else 1 - s)
    dist = np.hypot(xx - cx, yy - cy)
    return np.clip(0.5 + width / 2 - np.abs(dist - radius), 0, 1)


def generate_sample(label: int, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """Events (structured array, EVENT_DTYPE, sorted by t) of one sample of class ``label``."""
    log_i = np.log(0.1 + _movie(label, rng, size))
    delta = np.diff(log_i, axis=0)  # (SUBSTEPS, H, W)
    counts = np.floor(np.abs(delta) / THRESHOLD).astype(np.int64).ravel()
    k, y, x = np.unravel_index(np.repeat(np.arange(counts.size), counts), delta.shape)
    pol = delta.ravel()[np.repeat(np.arange(counts.size), counts)] > 0
    step = DURATION_US / SUBSTEPS
    t = np.floor((k + rng.random(k.size)) * step).astype(np.int64)
    keep = rng.random(k.size) >= DROP
    n_noise = rng.poisson(NOISE_HZ * DURATION_US * 1e-6 * size * size)
    ev = np.empty(int(keep.sum()) + n_noise, dtype=EVENT_DTYPE)
    ev["x"] = np.concatenate([x[keep], rng.integers(0, size, n_noise)])
    ev["y"] = np.concatenate([y[keep], rng.integers(0, size, n_noise)])
    ev["p"] = np.concatenate([pol[keep], rng.random(n_noise) < 0.5])
    ev["t"] = np.concatenate([t[keep], rng.integers(0, DURATION_US, n_noise)])
    return ev[np.argsort(ev["t"], kind="stable")]


def synthetic_labels(n: int, seed: int, stream: int = 0) -> np.ndarray:
    """Balanced labels (each class n // 8 or n // 8 + 1 times) in a seeded random order."""
    labels = np.arange(n) % len(CLASSES)
    return np.random.default_rng([seed, stream, 2**31]).permutation(labels).astype(np.int64)


def synthetic_events(n: int, seed: int = 0, stream: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` samples: (list of event arrays, labels int64). Deterministic in (n, seed, stream)."""
    labels = synthetic_labels(n, seed, stream)
    events = [generate_sample(int(lab), np.random.default_rng([seed, stream, i])) for i, lab in enumerate(labels)]
    return events, labels
