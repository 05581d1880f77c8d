"""The synthetic DVS-gesture generator: deterministic, balanced, well-formed events."""

from __future__ import annotations

import numpy as np

from snnc.data import load_dataset
from snnc.data.synthetic import CLASSES, DURATION_US, EVENT_DTYPE, SIZE, synthetic_events


def test_same_seed_gives_identical_events():
    a_ev, a_lab = synthetic_events(12, seed=3)
    b_ev, b_lab = synthetic_events(12, seed=3)
    np.testing.assert_array_equal(a_lab, b_lab)
    for a, b in zip(a_ev, b_ev):
        np.testing.assert_array_equal(a, b)


def test_different_seed_or_stream_differ():
    base, _ = synthetic_events(4, seed=0)
    other_seed, _ = synthetic_events(4, seed=1)
    other_stream, _ = synthetic_events(4, seed=0, stream=1)
    assert not np.array_equal(base[0], other_seed[0])
    assert not np.array_equal(base[0], other_stream[0])


def test_events_are_well_formed():
    events, labels = synthetic_events(16, seed=5)
    assert labels.dtype == np.int64
    assert np.bincount(labels, minlength=len(CLASSES)).tolist() == [2] * len(CLASSES)
    for ev in events:
        assert ev.dtype == EVENT_DTYPE
        assert len(ev) > 1000
        assert np.all(np.diff(ev["t"]) >= 0)
        assert ev["t"].min() >= 0 and ev["t"].max() < DURATION_US
        assert ev["x"].min() >= 0 and ev["x"].max() < SIZE and ev["y"].min() >= 0 and ev["y"].max() < SIZE
        assert 0 < ev["p"].mean() < 1  # both polarities


def test_load_dataset_synthetic_frames_hold_all_events():
    frames, labels = load_dataset("synthetic", "test", 5, 8, seed=2)
    events, labels2 = synthetic_events(5, seed=2, stream=1)
    assert frames.shape == (5, 8, 2, SIZE, SIZE) and frames.dtype == np.float32
    np.testing.assert_array_equal(labels, labels2)
    assert [int(f.sum()) for f in frames] == [len(ev) for ev in events]


def test_train_and_test_splits_are_independent():
    tr, _ = load_dataset("synthetic", "train", 3, 4, seed=0)
    te, _ = load_dataset("synthetic", "test", 3, 4, seed=0)
    assert not np.array_equal(tr, te)


def test_frame_size_matches_loaded_frames():
    from snnc.data import dataset_frame_size

    frames, _ = load_dataset("synthetic", "train", 1, 2, seed=0)
    assert tuple(frames.shape[-2:]) == dataset_frame_size("synthetic")
