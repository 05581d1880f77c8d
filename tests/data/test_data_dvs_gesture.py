"""DVS128 Gesture adapter on fake folders in tonic's layout (nothing is downloaded)."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.data import load_dataset
from snnc.data.dvs_gesture import list_recordings
from snnc.errors import SnncError


def write_recording(path, events_ms):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(events_ms, dtype=np.float64))


@pytest.fixture
def gesture_root(tmp_path):
    rng = np.random.default_rng(0)
    for user, lighting in ((2, "led"), (1, "fluorescent"), (25, "natural")):
        for label in (10, 3, 0):
            n = 500
            t_ms = np.sort(rng.uniform(5.0, 2000.0, n))
            ev = np.stack([rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n), t_ms], 1)
            write_recording(tmp_path / f"user{user:02d}_{lighting}" / f"{label}.npy", ev)
    return tmp_path


def test_listing_is_sorted_and_split_by_subject(gesture_root):
    train = list_recordings(gesture_root, "train")
    test = list_recordings(gesture_root, "test")
    assert [(f.parent.name, lab) for f, lab in train] == [
        ("user01_fluorescent", 0), ("user01_fluorescent", 3), ("user01_fluorescent", 10),
        ("user02_led", 0), ("user02_led", 3), ("user02_led", 10)]
    assert [lab for _, lab in test] == [0, 3, 10]


def test_tonic_split_folders(tmp_path):
    write_recording(tmp_path / "DVSGesture" / "ibmGestureTest" / "user24_led" / "7.npy", [[0, 0, 1, 1.0], [4, 8, 0, 2.0]])
    items = list_recordings(tmp_path, "test")
    assert [lab for _, lab in items] == [7]


def test_test_window_preprocessing(tmp_path):
    # events (x, y, p, t[ms]); first event at 10 ms anchors bin 0 = [10, 25) ms, bin 1 = [25, 40) ms
    ev = [[5, 9, 1, 10.0], [7, 11, 1, 24.999], [127, 0, 0, 25.0], [0, 127, 1, 39.0], [3, 3, 1, 40.0]]
    write_recording(tmp_path / "user24_led" / "4.npy", ev)
    frames, labels = load_dataset(str(tmp_path), "test", None, 2, seed=0)
    assert frames.shape == (1, 2, 2, 32, 32) and labels.tolist() == [4]
    expected = np.zeros((2, 2, 32, 32), dtype=np.float32)
    expected[0, 1, 2, 1] = 2  # (5, 9) and (7, 11) -> x 1, y 2 after // 4
    expected[1, 0, 0, 31] = 1  # x 127 -> 31, y 0
    expected[1, 1, 31, 0] = 1
    np.testing.assert_array_equal(frames[0], expected)  # the event at 40 ms is outside the window


def test_train_windows_are_seeded(gesture_root):
    a, la = load_dataset(str(gesture_root), "train", 4, 10, seed=1)
    b, lb = load_dataset(str(gesture_root), "train", 4, 10, seed=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert a.shape == (4, 10, 2, 32, 32)


@pytest.mark.parametrize("setup, message", [
    ("missing", "does not exist"),
    ("empty", "no train recordings"),
    ("badname", "name must be <label>.npy"),
    ("badshape", "expected a non-empty (N, 4) array"),
    ("garbage", "cannot read"),
])
def test_bad_folders_raise_one_line_errors(tmp_path, setup, message):
    root = tmp_path / "data"
    if setup != "missing":
        root.mkdir()
    if setup == "badname":
        write_recording(root / "user01_led" / "eleven.npy", [[0, 0, 0, 1.0]])
    if setup == "badshape":
        write_recording(root / "user01_led" / "1.npy", np.zeros((3, 3)))
    if setup == "garbage":
        (root / "user01_led").mkdir()
        (root / "user01_led" / "1.npy").write_bytes(b"not numpy")
    with pytest.raises(SnncError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        load_dataset(str(root), "train", None, 4, seed=0)
    assert "\n" not in str(err.value)


def test_original_aedat_release(tmp_path):
    from test_data_aedat import HEADER, packet, polarity_word

    # one trial, two gestures: class 3 in [1000, 40000) us, class 1 in [40000, 80000) us
    words = [(polarity_word(8, 4, 1), 1000), (polarity_word(12, 4, 0), 16000), (polarity_word(0, 0, 1), 39999),
             (polarity_word(127, 127, 1), 50000), (polarity_word(1, 1, 1, valid=0), 60000)]
    (tmp_path / "user24_led.aedat").write_bytes(HEADER + packet(1, words))
    (tmp_path / "user24_led_labels.csv").write_text("class,startTime_usec,endTime_usec\n3,1000,40000\n1,40000,80000\n")
    (tmp_path / "trials_to_test.txt").write_text("user24_led.aedat\n")
    frames, labels = load_dataset(str(tmp_path), "test", None, 3, seed=0)
    assert labels.tolist() == [2, 0] and frames.shape == (2, 3, 2, 32, 32)
    assert frames[0, 0, 1, 1, 2] == 1 and frames[0, 1, 0, 1, 3] == 1 and frames[0, 2, 1, 0, 0] == 1
    assert frames[1].sum() == 1 and frames[1, 0, 1, 31, 31] == 1  # the invalid event is skipped


def test_aedat_listing_names_missing_trial(tmp_path):
    (tmp_path / "trials_to_train.txt").write_text("user01_led.aedat\n")
    with pytest.raises(SnncError, match="user01_led.aedat"):
        load_dataset(str(tmp_path), "train", None, 3, seed=0)


@pytest.mark.parametrize("duration, window, clips", [(10_000, 900, 10), (5_000, 900, 10), (9_000, 900, 10),
                                                     (1_234, 300, 3), (100, 900, 10)])
def test_clip_starts_follow_the_released_rule(duration, window, clips):
    from snnc.data.dvs_gesture import clip_starts

    starts = clip_starts(1000, 1000 + duration, window, clips)
    # independent restatement: overlap o if the clips do not fit, else gap o; clamp to end at t_last
    if clips * window > duration:
        o = (clips * window - duration) // clips
        expected = [1000 + j * (window - o) for j in range(clips)]
    else:
        o = (duration - clips * window) // clips
        expected = [1000 + j * (window + o) for j in range(clips)]
    expected = [max(1000, min(s, 1000 + duration - window)) for s in expected]
    assert starts == expected and len(starts) == clips
    assert all(s + window <= 1000 + duration or s == 1000 for s in starts)


def test_clip_windows_and_vote(gesture_root):
    import torch

    from snnc.data.dvs_gesture import load_dvs_gesture_clips
    from snnc.models import build_model, demo_config
    from snnc.train import evaluate_clips

    clips, labels = load_dvs_gesture_clips(gesture_root, "test", None, 4, clips=5)
    assert clips.shape == (3, 5, 4, 2, 32, 32) and labels.tolist() == [0, 3, 10]
    model = build_model({**demo_config("none"), "T": 4, "num_classes": 11}).eval()
    with torch.no_grad():
        per_window = [model(torch.from_numpy(c)).argmax(1).numpy() for c in clips]
    expected = sum(int(2 * (p == lab).sum() > 5) for p, lab in zip(per_window, labels)) / 3
    assert evaluate_clips(model, clips, labels) == expected
