"""``synthetic-hard``: deterministic, balanced, framed as DVS128 Gesture, and every difficulty knob moves the
event statistic it is meant to move (hypothesis properties on the generator's own events)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

from snnc.data import dataset_classes, dataset_frame_size, load_dataset
from snnc.data.synthetic import EVENT_DTYPE
from snnc.data.synthetic_hard import (CLASSES, DURATION_US, SENSOR, HardKnobs, frames_of, generate_sample,
                                      hard_events, hard_labels)
from snnc.errors import SnncError

CLEAN = HardKnobs(noise_hz=0.0, bursts_per_s=0.0)
FEW = settings(max_examples=4, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate))
JITTER = settings(max_examples=2, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate))
PAIRS = ((0, 1), (2, 3), (4, 5), (6, 7))


def _sample(label: int, i: int, knobs: HardKnobs, seed: int = 0) -> np.ndarray:
    return generate_sample(label, np.random.SeedSequence([seed, 0, i]), knobs)


def _within_class_sd(values: dict[int, list[float]]) -> float:
    """Pooled standard deviation of ``values`` around their class means."""
    dev = np.concatenate([np.asarray(v) - np.mean(v) for v in values.values()])
    return float(np.sqrt(np.mean(dev ** 2)))


def _per_class(stat, knobs: HardKnobs, per_class: int = 3) -> dict[int, list[float]]:
    return {c: [stat(_sample(c, 100 * c + k, knobs)) for k in range(per_class)] for c in range(len(CLASSES))}


def test_same_seed_gives_identical_bytes_and_other_seeds_or_streams_differ():
    a_ev, a_lab = hard_events(6, seed=3)
    b_ev, b_lab = hard_events(6, seed=3)
    assert a_lab.tobytes() == b_lab.tobytes()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(a_ev, b_ev))
    fa, _ = load_dataset("synthetic-hard", "train", 6, 8, seed=3)
    fb, _ = load_dataset("synthetic-hard", "train", 6, 8, seed=3)
    assert fa.tobytes() == fb.tobytes()
    other_seed, _ = hard_events(6, seed=4)
    other_stream, _ = hard_events(6, seed=3, stream=1)
    assert all(a.tobytes() != b.tobytes() for a, b in zip(a_ev, other_seed))
    assert all(a.tobytes() != b.tobytes() for a, b in zip(a_ev, other_stream))
    te, _ = load_dataset("synthetic-hard", "test", 6, 8, seed=3)
    assert fa.tobytes() != te.tobytes()


@given(n=st.integers(1, 70), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=25, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate))
def test_class_balance_is_exact(n, seed):
    counts = np.bincount(hard_labels(n, seed), minlength=len(CLASSES))
    assert counts.sum() == n and counts.max() - counts.min() <= (0 if n % len(CLASSES) == 0 else 1)
    assert counts.min() == n // len(CLASSES)


def test_loaded_labels_are_balanced_and_match_the_events():
    frames, labels = load_dataset("synthetic-hard", "test", 22, 8, seed=1)
    events, labels2 = hard_events(22, seed=1, stream=1)
    assert labels.tobytes() == labels2.tobytes()
    assert np.bincount(labels).tolist() == [2] * 11
    assert [int(f.sum()) for f in frames] == [len(ev) for ev in events]  # every event lands in a frame


def test_events_are_well_formed_dvs128_events():
    events, _ = hard_events(11, seed=5)
    for ev in events:
        assert ev.dtype == EVENT_DTYPE and len(ev) > 10_000
        assert np.all(np.diff(ev["t"]) >= 0) and ev["t"].min() >= 0 and ev["t"].max() < DURATION_US
        assert ev["x"].min() >= 0 and ev["x"].max() < SENSOR and ev["y"].min() >= 0 and ev["y"].max() < SENSOR
        assert 0.3 < ev["p"].mean() < 0.7  # both polarities


@pytest.mark.parametrize("T", [8, 60])
def test_frames_are_the_dvs128_gesture_preprocessing_of_the_events(tmp_path, T):
    """Written as a tonic-style DVS128 Gesture folder (x, y, p, t [ms]) and read back by snnc's Gesture loader,
    the samples have the same frame shape, dtype and class count; at T = 60 (dt = 15 ms) the loader's window
    (anchored at the first event, moved to t = 0 here) gives exactly the generator's frames."""
    from snnc.data.dvs_gesture import NUM_CLASSES, load_dvs_gesture

    events, labels = hard_events(11, seed=2, stream=1)
    ours = np.stack([frames_of(ev, T) for ev in events])
    for k, (ev, lab) in enumerate(zip(events, labels)):
        ev = ev.copy()
        ev["t"][0] = 0
        ours[k] = frames_of(ev, T)
        rows = np.stack([ev["x"], ev["y"], ev["p"], ev["t"] / 1000.0], axis=1).astype(np.float64)
        user = tmp_path / "ibmGestureTest" / f"user{k + 1:02d}"
        user.mkdir(parents=True)
        np.save(user / f"{lab}.npy", rows)
    theirs, their_labels = load_dvs_gesture(tmp_path, "test", None, T, seed=0)
    loaded, _ = load_dataset("synthetic-hard", "test", 11, T, seed=2)
    assert theirs.shape == ours.shape == loaded.shape == (11, T, 2, 32, 32)
    assert theirs.dtype == loaded.dtype == np.float32
    assert their_labels.tolist() == labels.tolist()
    assert dataset_classes("synthetic-hard") == NUM_CLASSES == len(CLASSES)
    assert dataset_frame_size("synthetic-hard") == tuple(loaded.shape[-2:])
    if T == 60:
        np.testing.assert_array_equal(theirs, ours)


@given(noise=st.floats(0.2, 4.0), seed=st.integers(0, 1000))
@FEW
def test_noise_density_sets_the_events_outside_the_gesture(noise, seed):
    """Events on pixels the noise-free sample never touches are noise: Poisson(noise_hz x pixels x 0.9 s)."""
    knobs = HardKnobs(noise_hz=noise, bursts_per_s=0.0)
    outside, expected = 0, 0.0
    for label in (0, 6, 10):
        clean = _sample(label, seed, CLEAN)
        touched = np.zeros((SENSOR, SENSOR), bool)
        touched[clean["y"], clean["x"]] = True
        noisy = _sample(label, seed, knobs)
        outside += int((~touched[noisy["y"], noisy["x"]]).sum())
        expected += noise * (~touched).sum() * DURATION_US * 1e-6
        assert int(touched[noisy["y"], noisy["x"]].sum()) >= len(clean)  # the gesture itself is unchanged
    assert abs(outside - expected) < 5 * np.sqrt(expected)


def _off_gesture_dispersion(ev: np.ndarray, clean: np.ndarray, T: int = 60) -> tuple[float, float]:
    """(variance, mean) over the T bins of the counts of events on pixels the noise-free sample never touches."""
    touched = np.zeros((SENSOR, SENSOR), bool)
    touched[clean["y"], clean["x"]] = True
    off = ev[~touched[ev["y"], ev["x"]]]
    counts = np.bincount(off["t"] * T // DURATION_US, minlength=T).astype(float)
    return counts.var(), counts.mean()


@given(rate=st.floats(2.0, 8.0), size=st.floats(1000.0, 4000.0), seed=st.integers(0, 1000))
@FEW
def test_bursts_raise_the_variance_of_the_per_bin_counts(rate, size, seed):
    """Off the gesture, the per-bin counts are Poisson noise (variance = mean) without bursts; bursts pile
    events into one or two 15 ms bins, so the variance of the per-bin counts grows far beyond the mean.
    The gesture and the noise are not changed by the burst knobs."""
    quiet, bursty = HardKnobs(bursts_per_s=0.0), HardKnobs(bursts_per_s=rate, burst_events=size)
    var_q, mean_q, var_b, mean_b = 0.0, 0.0, 0.0, 0.0
    for label in range(0, 11, 2):
        clean = _sample(label, seed, CLEAN)
        q, b = _sample(label, seed, quiet), _sample(label, seed, bursty)
        assert np.all(frames_of(b, 60) >= frames_of(q, 60))  # bursts only add events
        v, m = _off_gesture_dispersion(q, clean)
        var_q, mean_q = var_q + v, mean_q + m
        v, m = _off_gesture_dispersion(b, clean)
        var_b, mean_b = var_b + v, mean_b + m
    assert var_q < 2 * mean_q  # Poisson
    assert var_b > 10 * mean_b
    same = _sample(3, seed, HardKnobs(bursts_per_s=0.0, burst_events=size))
    assert same.tobytes() == _sample(3, seed, quiet).tobytes()


def _centroid_x(ev: np.ndarray) -> float:
    return float(ev["x"].mean())


@given(low=st.floats(0.0, 0.1), step=st.floats(0.08, 0.15))
@JITTER
def test_position_jitter_spreads_the_centroids(low, step):
    a = _within_class_sd(_per_class(_centroid_x, HardKnobs(noise_hz=0, bursts_per_s=0, pos_jitter=low)))
    b = _within_class_sd(_per_class(_centroid_x, HardKnobs(noise_hz=0, bursts_per_s=0, pos_jitter=low + step)))
    assert b > a


def _log_radius(ev: np.ndarray) -> float:
    x, y = ev["x"].astype(float), ev["y"].astype(float)
    return float(np.log(np.sqrt(x.var() + y.var())))


@given(low=st.floats(0.0, 0.1), step=st.floats(0.15, 0.3))
@JITTER
def test_scale_jitter_spreads_the_spatial_extent(low, step):
    a = _within_class_sd(_per_class(_log_radius, HardKnobs(noise_hz=0, bursts_per_s=0, scale_jitter=low)))
    b = _within_class_sd(_per_class(_log_radius, HardKnobs(noise_hz=0, bursts_per_s=0, scale_jitter=low + step)))
    assert b > a


def _log_time_spread(ev: np.ndarray) -> float:
    return float(np.log(ev["t"].astype(float).std()))


@given(low=st.floats(0.0, 0.1), step=st.floats(0.3, 0.6))
@JITTER
def test_speed_jitter_spreads_the_duration_of_the_motion(low, step):
    a = _within_class_sd(_per_class(_log_time_spread, HardKnobs(noise_hz=0, bursts_per_s=0, speed_jitter=low)))
    b = _within_class_sd(_per_class(_log_time_spread, HardKnobs(noise_hz=0, bursts_per_s=0, speed_jitter=low + step)))
    assert b > a


@given(seed=st.integers(0, 10_000), pair=st.sampled_from(PAIRS), T=st.sampled_from([8, 12, 60]))
@settings(max_examples=8, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate))
def test_direction_pairs_have_the_same_frames_in_the_opposite_order(seed, pair, T):
    """cw/ccw, left/right, expand/contract: frame t of one is frame T-1-t of the other, polarities swapped."""
    a = frames_of(_sample(pair[0], seed, CLEAN), T)
    b = frames_of(_sample(pair[1], seed, CLEAN), T)
    np.testing.assert_array_equal(b, a[::-1, ::-1])
    assert not np.array_equal(a, b)


@given(seed=st.integers(0, 10_000))
@FEW
def test_order_pair_waves_left_then_right_or_the_other_way(seed):
    """Classes 8 and 9 differ only in which hand waves first: the events' x moves right over time in 8, left
    in 9, while the total activity is the same kind (both hands wave once)."""
    def drift(ev):
        half = len(ev) // 2
        return ev["x"][half:].mean() - ev["x"][:half].mean()

    first, second = _sample(8, seed, CLEAN), _sample(9, seed, CLEAN)
    assert drift(first) > 5 and drift(second) < -5
    assert 0.7 < len(first) / len(second) < 1.4


def test_bad_knobs_and_sizes_are_refused():
    with pytest.raises(ValueError, match="noise_hz"):
        HardKnobs(noise_hz=-1.0).check()
    with pytest.raises(ValueError, match="speed_jitter"):
        HardKnobs(speed_jitter=1.0).check()
    with pytest.raises(SnncError, match="synthetic-hard"):
        load_dataset("synthetic-hard", "train", 0, 8)
