"""Frames made batch by batch (snnc.data.stream) equal the one-shot arrays they stand for, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import snnc.data.stream as stream
from snnc.data import load_dataset


@pytest.mark.parametrize("keep", [True, False])
def test_synthetic_slices_equal_load_dataset(monkeypatch, keep):
    if not keep:
        monkeypatch.setattr(stream, "CACHE_BYTES", 0)
    x, y = load_dataset("synthetic", "train", 7, 3, seed=5)
    fr = stream.synthetic_frames("train", 7, 3, 5)
    assert fr.shape == x.shape and len(fr) == 7
    np.testing.assert_array_equal(fr.labels, y)
    parts = [fr[i:i + 3] for i in range(0, 7, 3)]
    assert all(p.dtype == np.float32 for p in parts)
    np.testing.assert_array_equal(np.concatenate(parts), x)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(cuts=st.lists(st.integers(0, 12), min_size=1, max_size=6))
def test_bernoulli_slices_in_any_order_equal_the_one_shot_draw(cuts):
    stream.CACHE_BYTES, saved = 0, stream.CACHE_BYTES  # force the streamed path
    try:
        fr = stream.bernoulli_frames(12, 3, (2, 5), 0.2, [4, 0x5EED])
        ref = (np.random.default_rng([4, 0x5EED]).random((12, 3, 2, 5)) < 0.2).astype(np.float32)
        for a in cuts:  # arbitrary order, including going back
            np.testing.assert_array_equal(fr[a:a + 4], ref[a:a + 4])
    finally:
        stream.CACHE_BYTES = saved


def test_only_contiguous_slices():
    fr = stream.bernoulli_frames(4, 2, (3,), 0.5, 0)
    with pytest.raises(TypeError):
        fr[::2]
    assert fr[3:3].shape == (0, 2, 3)
