"""``synthetic-hard``: a deterministic DVS128-Gesture-like event task that attention can matter on (NumPy only).

Events are made on the 128 x 128 DVS128 sensor (tonic's dtype: x, y, p, t [us]) over a window of
DURATION_US = 900 ms (the paper's T = 60 x 15 ms) and framed as the DVS128 Gesture path frames them:
coordinates floor-divided by 4 (-> 32 x 32), T equal bins (at T = 60 exactly dt = 15 ms), counts per
(t, polarity, y, x), frames (T, 2, 32, 32) float32. Eleven classes, paired so that time matters:

    0 swipe-right   1 swipe-left       a vertical bar crossing the scene; 1 is 0 played backwards
    2 right-arm-cw  3 right-arm-ccw    an arm rotating about a pivot right of the centre; 3 = 2 reversed
    4 left-arm-cw   5 left-arm-ccw     the same about a pivot left of the centre; 5 = 4 reversed
    6 expand        7 contract         a ring growing; 7 = 6 reversed
    8 wave-left-then-right             two hands; the left one waves in the first half of the motion,
    9 wave-right-then-left             the right one in the second half (9: the other order)
    10 clap                            two bars meeting twice (time-symmetric)

A reversed class is the forward class's intensity movie I(u) played as I(1 - u): with the same draws
its events at sub-step j are those of the forward sample at sub-step K - 1 - j with the polarity
flipped, so the pair has the same per-frame histograms in the opposite order.

Sensor model: a soft-edged intensity movie I_k in [0, 1] on K = SUBSTEPS sub-steps; each pixel's level
floor(log(0.1 + I_k) / threshold + phi) (phi ~ U[0, 1) per pixel, the DVS's random reference) emits one
event per level crossed between sub-steps (ON when rising), timestamps uniform inside the sub-step.
Outside the motion [onset, onset + duration] the scene is static and emits nothing.

Per sample, drawn once (unit draws first, then scaled by the knobs of :class:`HardKnobs`, so a knob
changes only what it scales): centre 64 + pos_jitter * 128 * U(-1, 1) per axis, size 1 + scale_jitter *
U(-1, 1), motion duration base_duration * (1 + speed_jitter * U(-1, 1)) of the window at a uniform
onset, contrast U(0.6, 1), tilt, arm start angle and sweep. Background noise: Poisson(noise_hz * 128^2 *
0.9 s) events uniform in space and time, random polarity (at the default 1 Hz per pixel, 14.7k events per
window beside the gesture's 35k-155k: a chosen density; a real DVS's background activity depends on its
biases and the light). Bursts: Poisson(bursts_per_s * 0.9 s) bursts,
each Poisson(burst_events) events uniform in time inside a random burst_ms slot and in space inside a
random 16-48 px square, random polarity (a flickering distractor confined to one or two 15 ms bins).

Sample i of (n, seed, stream) uses three independent generators spawned from
``np.random.SeedSequence([seed, stream, i])`` (gesture, noise, bursts): the same arguments give
identical bytes, and changing one knob leaves the other components' events unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.data.synthetic import EVENT_DTYPE

CLASSES = ("swipe-right", "swipe-left", "right-arm-cw", "right-arm-ccw", "left-arm-cw", "left-arm-ccw",
           "expand", "contract", "wave-left-then-right", "wave-right-then-left", "clap")
SENSOR = 128
DOWNSAMPLE = 4
SIZE = SENSOR // DOWNSAMPLE
DURATION_US = 900_000
SUBSTEPS = 120  # 7.5 ms; a multiple of T = 8, 10, 12, 15, 20, 24, 30, 40, 60, 120 (frames then hold whole sub-steps)
#: class -> (motion, reversed): the reversed class plays the forward movie backwards
_MOTION = {0: ("swipe", False), 1: ("swipe", True), 2: ("arm+", False), 3: ("arm+", True), 4: ("arm-", False),
           5: ("arm-", True), 6: ("ring", False), 7: ("ring", True), 8: ("waves", False), 9: ("waves-swapped", False),
           10: ("clap", False)}


@dataclass(frozen=True)
class HardKnobs:
    """The difficulty knobs of ``synthetic-hard`` (defaults: the built-in task)."""

    pos_jitter: float = 0.10     #: centre offset, fraction of the sensor width (uniform +-)
    scale_jitter: float = 0.25   #: relative size change (uniform +-)
    speed_jitter: float = 0.45   #: relative change of the motion's duration (uniform +-), i.e. of its speed
    base_duration: float = 0.6   #: nominal motion duration, fraction of the 900 ms window
    noise_hz: float = 1.0        #: background events per sensor pixel per second: 14.7k per window (a chosen value)
    bursts_per_s: float = 3.0    #: mean number of distractor bursts per second (2.7 per window)
    burst_events: float = 3000.0 #: mean events per burst
    burst_ms: float = 15.0       #: duration of a burst (one paper-size bin)
    threshold: float = 0.3       #: log-intensity contrast per event

    def check(self) -> None:
        """ValueError unless every knob is in its range."""
        for name in ("pos_jitter", "scale_jitter", "noise_hz", "bursts_per_s", "burst_events"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not (0 <= self.speed_jitter < 1 and 0 < self.base_duration * (1 + self.speed_jitter) <= 1):
            raise ValueError("need 0 <= speed_jitter < 1 and 0 < base_duration * (1 + speed_jitter) <= 1")
        if not (0 < self.burst_ms * 1000 <= DURATION_US and self.threshold > 0 and self.scale_jitter < 1):
            raise ValueError("need 0 < burst_ms <= 900, threshold > 0 and scale_jitter < 1")


DEFAULT_KNOBS = HardKnobs()


def _bar(xx, yy, cx, cy, theta, length, width):
    """Soft (1 px anti-aliased) bar centred at (cx, cy), long axis at angle theta (arrays broadcast)."""
    dx, dy = xx - cx, yy - cy
    c, s = np.cos(theta), np.sin(theta)
    along, across = dx * c + dy * s, dy * c - dx * s
    np.abs(across, out=across)
    np.subtract(0.5 + width / 2, across, out=across)
    np.abs(along, out=along)
    np.subtract(0.5 + length / 2, along, out=along)
    np.clip(across, 0, 1, out=across)
    np.clip(along, 0, 1, out=along)
    across *= along
    return across


def _scene(motion: str, p: np.ndarray, d: dict, grid) -> np.ndarray:
    """Intensity (len(p), 128, 128) in [0, 1] of ``motion`` at progress values p (shape (k, 1, 1))."""
    xx, yy = grid
    cx, cy, sc = d["cx"], d["cy"], d["scale"]
    if motion == "swipe":
        return _bar(xx, yy, cx + (p - 0.5) * 64 * sc, cy, np.pi / 2 + d["tilt"], 48 * sc, 8 * sc)
    if motion.startswith("arm"):
        side = 1 if motion == "arm+" else -1
        px, py, arm = cx + side * 22 * sc, cy + 8 * sc, 40 * sc
        theta = d["start"] + d["sweep"] * p
        return _bar(xx, yy, px + arm / 2 * np.cos(theta), py + arm / 2 * np.sin(theta), theta, arm, 7 * sc)
    if motion == "ring":
        radius = (8 + 32 * p) * sc
        return np.clip(0.5 + 3 * sc - np.abs(np.hypot(xx - cx, yy - cy) - radius), 0, 1)
    if motion.startswith("waves"):
        first, second = np.clip(2 * p, 0, 1), np.clip(2 * p - 1, 0, 1)
        left, right = (second, first) if motion == "waves-swapped" else (first, second)
        out = 0.0
        for side, phase in ((-1, left), (1, right)):
            hx, hy, hand = cx + side * 30 * sc, cy - 6 * sc, 26 * sc
            theta = -np.pi / 2 + 0.7 * np.sin(2 * np.pi * phase) + d["tilt"]  # pointing up, waving
            out = np.maximum(out, _bar(xx, yy, hx + hand / 2 * np.cos(theta), hy + hand / 2 * np.sin(theta),
                                       theta, hand, 8 * sc))
        return out
    gap = (30 - 22 * np.abs(np.sin(2 * np.pi * p))) * sc  # clap: two hands meet twice
    return np.maximum(_bar(xx, yy, cx - gap, cy, np.pi / 2 + d["tilt"], 36 * sc, 8 * sc),
                      _bar(xx, yy, cx + gap, cy, np.pi / 2 - d["tilt"], 36 * sc, 8 * sc))


def _draws(rng: np.random.Generator, knobs: HardKnobs) -> dict:
    """The per-sample parameters: unit draws in a fixed order, then scaled by the knobs."""
    u = rng.uniform(-1.0, 1.0, 4)  # centre x, centre y, scale, speed
    onset_u, contrast, tilt, start, sweep = rng.random(5)
    duration = knobs.base_duration * (1 + knobs.speed_jitter * u[3])
    return {"cx": SENSOR / 2 + knobs.pos_jitter * SENSOR * u[0], "cy": SENSOR / 2 + knobs.pos_jitter * SENSOR * u[1],
            "scale": 1 + knobs.scale_jitter * u[2], "duration": duration, "onset": onset_u * (1 - duration),
            "contrast": 0.6 + 0.4 * contrast, "tilt": 0.3 * (tilt - 0.5), "start": 2 * np.pi * start,
            "sweep": np.pi * (0.8 + 0.4 * sweep)}


def _gesture_events(label: int, rng: np.random.Generator, knobs: HardKnobs):
    """(substep j, y, x, polarity) of the gesture's events (unsorted), from the level-crossing sensor model."""
    motion, backwards = _MOTION[label]
    d = _draws(rng, knobs)
    phi = rng.random((SENSOR, SENSOR)).astype(np.float32)
    k_lo = int(np.floor(d["onset"] * SUBSTEPS))
    k_hi = min(SUBSTEPS, int(np.ceil((d["onset"] + d["duration"]) * SUBSTEPS)))
    u = np.arange(k_lo, k_hi + 1) / SUBSTEPS
    p = np.clip((u - d["onset"]) / d["duration"], 0.0, 1.0).astype(np.float32)[:, None, None]
    yy, xx = np.mgrid[0:SENSOR, 0:SENSOR].astype(np.float32)
    intensity = d["contrast"] * _scene(motion, p, d, (xx[None], yy[None]))
    level = np.floor(np.log(0.1 + intensity) / knobs.threshold + phi).astype(np.int32)
    dlev = np.diff(level, axis=0)  # (k_hi - k_lo, H, W): signed events per sub-step
    flat = np.flatnonzero(dlev)
    counts = np.abs(dlev.ravel()[flat])
    j, y, x = np.unravel_index(np.repeat(flat, counts), dlev.shape)
    pol = np.repeat(dlev.ravel()[flat] > 0, counts)
    j = j + k_lo
    if backwards:  # I'(u) = I(1 - u): sub-step j holds sub-step K-1-j's events, polarity flipped
        j, pol = SUBSTEPS - 1 - j, ~pol
    return j, y, x, pol


def _extra_events(rng: np.random.Generator, knobs: HardKnobs, bursts: bool):
    """(x, y, p, t) of the background noise (bursts=False) or of the distractor bursts."""
    window_s = DURATION_US * 1e-6
    if not bursts:
        n = rng.poisson(knobs.noise_hz * SENSOR * SENSOR * window_s)
        return (rng.integers(0, SENSOR, n), rng.integers(0, SENSOR, n), rng.random(n) < 0.5,
                rng.integers(0, DURATION_US, n))
    parts = []
    span = int(knobs.burst_ms * 1000)
    for _ in range(rng.poisson(knobs.bursts_per_s * window_s)):
        t0, side = rng.integers(0, DURATION_US - span + 1), rng.integers(16, 49)
        x0, y0 = rng.integers(0, SENSOR - side + 1, 2)
        n = rng.poisson(knobs.burst_events)
        parts.append((x0 + rng.integers(0, side, n), y0 + rng.integers(0, side, n), rng.random(n) < 0.5,
                      t0 + rng.integers(0, span, n)))
    if not parts:
        return tuple(np.zeros(0, dt) for dt in (np.int64, np.int64, bool, np.int64))
    return tuple(np.concatenate(c) for c in zip(*parts))


def generate_sample(label: int, seed_seq: np.random.SeedSequence, knobs: HardKnobs = DEFAULT_KNOBS) -> np.ndarray:
    """Events (EVENT_DTYPE, 128 x 128 sensor, sorted by t) of one sample of class ``label``."""
    g_gesture, g_noise, g_burst = (np.random.default_rng(s) for s in seed_seq.spawn(3))
    j, y, x, pol = _gesture_events(label, g_gesture, knobs)
    step = DURATION_US / SUBSTEPS
    t = np.floor((j + g_gesture.random(j.size)) * step).astype(np.int64)
    nx, ny, npol, nt = _extra_events(g_noise, knobs, bursts=False)
    bx, by, bpol, bt = _extra_events(g_burst, knobs, bursts=True)
    ev = np.empty(j.size + nx.size + bx.size, dtype=EVENT_DTYPE)
    ev["x"] = np.concatenate([x, nx, bx])
    ev["y"] = np.concatenate([y, ny, by])
    ev["p"] = np.concatenate([pol, npol, bpol])
    ev["t"] = np.concatenate([t, nt, bt])
    return ev[np.argsort(ev["t"], kind="stable")]


def hard_labels(n: int, seed: int, stream: int = 0) -> np.ndarray:
    """Balanced labels (each class n // 11 or n // 11 + 1 times) in a seeded random order."""
    labels = np.arange(n) % len(CLASSES)
    return np.random.default_rng([seed, stream, 2**31]).permutation(labels).astype(np.int64)


def hard_events(n: int, seed: int = 0, stream: int = 0,
                knobs: HardKnobs = DEFAULT_KNOBS) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` samples: (list of event arrays, labels int64). Deterministic in (n, seed, stream, knobs)."""
    knobs.check()
    labels = hard_labels(n, seed, stream)
    events = [generate_sample(int(lab), np.random.SeedSequence([seed, stream, i]), knobs)
              for i, lab in enumerate(labels)]
    return events, labels


def frames_of(ev: np.ndarray, T: int) -> np.ndarray:
    """(T, 2, 32, 32) float32 counts: the DVS128 Gesture framing (x, y // 4) of [0, DURATION_US) in T bins."""
    from snnc.data.frames import events_to_frames

    return events_to_frames(ev, T, SIZE, SIZE, 0, DURATION_US, downsample=DOWNSAMPLE)


def hard_frames(n: int, T: int, seed: int = 0, stream: int = 0,
                knobs: HardKnobs = DEFAULT_KNOBS) -> tuple[np.ndarray, np.ndarray]:
    """(frames float32 [n, T, 2, 32, 32], labels int64), one sample's events at a time."""
    knobs.check()
    labels = hard_labels(n, seed, stream)
    frames = np.empty((n, T, 2, SIZE, SIZE), np.float32)
    for i, lab in enumerate(labels):
        frames[i] = frames_of(generate_sample(int(lab), np.random.SeedSequence([seed, stream, i]), knobs), T)
    return frames, labels
