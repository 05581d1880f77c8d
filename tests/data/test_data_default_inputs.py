"""snnc.data.default_inputs: the one generator of frames when the user names no data."""

import numpy as np
from hypothesis import given, settings, strategies as st

from snnc.data import load_dataset
from snnc.data.default_inputs import SYNTHETIC_SHAPE, default_frames


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), n=st.integers(1, 6),
       T=st.integers(1, 4), density=st.sampled_from([0.1, 0.2, 0.5]), seed=st.integers(0, 2**31))
def test_other_shapes_are_numpys_bernoulli_draw(shape, n, T, density, seed):
    x, desc = default_frames(shape, "test", n, T, density=density, seed=seed, bernoulli_seed=[seed, 7])
    want = (np.random.default_rng([seed, 7]).random((n, T, *shape)) < density).astype(np.float32)
    assert np.array_equal(x[0:n], want) and x.labels is None
    assert str(density) in desc


def test_snnc_input_shape_gets_the_synthetic_gestures():
    x, desc = default_frames(SYNTHETIC_SHAPE, "train", 3, 4, density=0.2, seed=5)
    ref, labels = load_dataset("synthetic", "train", 3, 4, 5)
    assert np.array_equal(x[0:3], ref) and np.array_equal(x.labels, labels)
    assert "synthetic" in desc
