"""events_to_frames against a brute-force loop with exact rational bin edges."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.data.frames import events_to_frames
from snnc.data.synthetic import EVENT_DTYPE


def brute_force(ev, T, h, w, t0, t1, ds):
    out = np.zeros((T, 2, h, w), dtype=np.float32)
    for e in ev:
        t, x, y, p = int(e["t"]), int(e["x"]) // ds, int(e["y"]) // ds, int(e["p"])
        if not (0 <= x < w and 0 <= y < h):
            continue
        for i in range(T):
            lo = t0 + Fraction(t1 - t0, T) * i
            hi = t0 + Fraction(t1 - t0, T) * (i + 1)
            if lo <= t < hi:
                out[i, p, y, x] += 1
    return out


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 9), st.integers(-50, 50), st.integers(1, 997), st.sampled_from([1, 2, 4]))
def test_binning_matches_brute_force(seed, T, t0, span, ds):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 200))
    ev = np.empty(n, dtype=EVENT_DTYPE)
    ev["x"], ev["y"] = rng.integers(0, 9, n), rng.integers(0, 7, n)
    ev["p"] = rng.random(n) < 0.5
    ev["t"] = np.sort(rng.integers(t0 - 20, t0 + span + 20, n))
    h, w = 7 // ds, 9 // ds
    got = events_to_frames(ev, T, h, w, t0, t0 + span, downsample=ds)
    np.testing.assert_array_equal(got, brute_force(ev, T, h, w, t0, t0 + span, ds))


def test_half_open_window_keeps_first_and_drops_stop():
    ev = np.zeros(3, dtype=EVENT_DTYPE)
    ev["t"] = [0, 99, 100]
    f = events_to_frames(ev, 2, 1, 1, 0, 100)
    assert f[:, 0, 0, 0].tolist() == [1, 1]  # t=0 -> bin 0, t=99 -> bin 1, t=100 dropped


def test_bad_window_is_refused():
    with pytest.raises(ValueError):
        events_to_frames(np.zeros(0, dtype=EVENT_DTYPE), 4, 2, 2, 10, 10)
