"""Property: any nested metadata value written by h5codec comes back with the same types and bits."""

from __future__ import annotations

import h5py
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ir_graph_equality import assert_value_identical
from snnc.compiler.ir.h5codec import read_value, write_value

keys = st.text(alphabet="abcdefghij_.0123456789", min_size=1, max_size=6).filter(lambda k: k not in (".",))
arrays = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.uint16, np.bool_]),
                    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**62, 2**62), st.floats(allow_nan=False),
                    st.text(max_size=8), st.builds(np.float32, st.floats(-1e6, 1e6, width=32)),
                    st.builds(np.int16, st.integers(-100, 100)))
values = st.recursive(st.one_of(scalars, arrays),
                      lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                                              st.dictionaries(keys, inner, max_size=3)),
                      max_leaves=8)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(keys, values, max_size=4))
def test_metadata_round_trips_exactly(tmp_path_factory, meta):
    path = tmp_path_factory.mktemp("codec") / "m.h5"
    with h5py.File(path, "w") as f:
        write_value(f, "metadata", meta)
    with h5py.File(path, "r") as f:
        back = read_value(f["metadata"])
    assert_value_identical(meta, back, "metadata")


def test_nan_payloads_and_negative_zero_keep_their_bits(tmp_path):
    """Arrays inside JSON-stored values (tuples, mixed lists) keep every bit: a NaN payload found by
    hypothesis once came back as the canonical NaN."""
    odd_nan = np.array([0x7FC00001], dtype=np.uint32).view(np.float32).reshape(())
    meta = {"a": (None, odd_nan), "b": [None, np.array([-0.0, np.nan, np.inf])], "c": "nul\x00in text"}
    with h5py.File(tmp_path / "m.h5", "w") as f:
        write_value(f, "metadata", meta)
    with h5py.File(tmp_path / "m.h5", "r") as f:
        back = read_value(f["metadata"])
    assert back["a"][1].tobytes() == odd_nan.tobytes()
    assert back["b"][1].tobytes() == meta["b"][1].tobytes()
    assert back["c"] == meta["c"]
