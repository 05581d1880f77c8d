"""Binning events into frames: the one framing function of snnc.

``events_to_frames(ev, T, height, width, t_start, t_stop, downsample)`` returns float32 event
counts of shape (T, 2, H, W) (layout [T, P, H, W]: polarity 0 = OFF, 1 = ON; y is the row).

Semantics: the window [t_start, t_stop) is split into T half-open bins; event (x, y, p, t) with
t_start <= t < t_stop lands in bin floor((t - t_start) * T / (t_stop - t_start)) (integer
arithmetic) at pixel (y // downsample, x // downsample). Events outside the window, or outside
the (H, W) grid after down-sampling, are dropped. Counts are not clamped.

Compared with tonic's ``ToFrame(n_time_bins=T)``: that anchors at the first event, uses a floored
integer bin width and drops the remainder and the last event; here the window is given. ASA-SNN's
Gesture loader (dt = 15 ms bins from the first event of the window) is
``t_start = first event, t_stop = t_start + T * dt``.
"""

from __future__ import annotations

import numpy as np


def events_to_frames(ev: np.ndarray, T: int, height: int, width: int, t_start: int, t_stop: int,
                     downsample: int = 1) -> np.ndarray:
    """Event counts (T, 2, height, width) float32 of ``ev`` (fields x, y, p, t) over [t_start, t_stop)."""
    if T <= 0 or t_stop <= t_start:
        raise ValueError(f"need T > 0 and t_stop > t_start, got T={T}, window [{t_start}, {t_stop})")
    t = ev["t"].astype(np.int64)
    x = ev["x"].astype(np.int64) // downsample
    y = ev["y"].astype(np.int64) // downsample
    p = ev["p"].astype(np.int64)
    keep = (t >= t_start) & (t < t_stop) & (x >= 0) & (x < width) & (y >= 0) & (y < height) & (p >= 0) & (p < 2)
    b = ((t[keep] - t_start) * T) // (t_stop - t_start)
    flat = ((b * 2 + p[keep]) * height + y[keep]) * width + x[keep]
    counts = np.bincount(flat, minlength=T * 2 * height * width)
    return counts.reshape(T, 2, height, width).astype(np.float32)
