"""probe_max_abs reduces each probed signal per channel (max and min, then the bias) instead of element-wise:
the maxima are the very values of the element-wise definition ``max |z − bias|`` (NumPy, z float32, the
bias in its own dtype), which is the oracle here, on random signals, biases of several dtypes and shapes,
and on a real network probed by the reference simulator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passes_helpers import tiny_frames, tiny_graph
from snnc.compiler.passes.probe import probe_batches, probe_max_abs

cpu = pytest.importorskip("snnc.backends.cpu")


def elementwise(z: np.ndarray, bias) -> float:
    """The definition: max over all entries of |z − bias| (bias per channel on axis 2, or none)."""
    z = np.asarray(z, dtype=np.float32)
    d = z - np.reshape(bias, (1, 1, -1) + (1,) * (z.ndim - 3)) if bias is not None and np.ndim(bias) else z
    return float(np.max(np.abs(d)))


class _Feed:
    """An interpreter that hands probe_max_abs given signals through ``probes=`` (one batch per call)."""

    def __init__(self, signals):
        self.signals = signals

    def __call__(self, g, xb, timing, probes):
        for name, take in probes.items():
            take(self.signals[name][int(xb[0])])


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), dims=st.sampled_from([(4,), (3, 5, 5), (2, 1, 7)]),
       scale=st.sampled_from([1e-3, 1.0, 3e4]),
       bias_kind=st.sampled_from(["none", "scalar", "float32", "float64", "int64"]))
def test_channel_extremes_give_the_elementwise_maximum(seed, dims, scale, bias_kind):
    import torch

    rng = np.random.default_rng(seed)
    batches = [torch.from_numpy((rng.standard_normal((2, 4, *dims)) * scale).astype(np.float32)) for _ in range(3)]
    c = dims[0]
    bias = {"none": None, "scalar": np.float64(rng.standard_normal()),
            "float32": (rng.standard_normal(c) * scale).astype(np.float32),
            "float64": rng.standard_normal(c) * scale, "int64": rng.integers(-5, 5, c)}[bias_kind]
    got = probe_max_abs(None, {"k": ("node", bias), "plain": ("node", None)}, np.arange(3), batch_size=1,
                        run=_Feed({"node": batches}))
    want = max(elementwise(b.numpy(), bias) for b in batches)
    assert got["k"] == want
    assert got["plain"] == max(elementwise(b.numpy(), None) for b in batches)


def test_on_a_network_probed_by_the_reference_simulator():
    g = tiny_graph("asa")
    x = tiny_frames(n=5)
    names = [n for n, node in g.nodes.items() if type(node).__name__ in ("Conv2d", "Affine", "LIF")]
    rng = np.random.default_rng(1)
    channels = {n: next(probe_batches(g, n, x[:1], run=cpu.run)).shape[2] for n in names}  # of each node's input
    requests = {n: (n, rng.standard_normal(channels[n]).astype(np.float32)) for n in names}
    got = probe_max_abs(g, requests, x, run=cpu.run, batch_size=2)
    for key, (name, bias) in requests.items():
        want = max(elementwise(z, bias) for z in probe_batches(g, name, x, run=cpu.run, batch_size=2))
        assert got[key] == want, key
