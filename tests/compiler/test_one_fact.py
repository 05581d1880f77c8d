"""The single definitions of issue 14 ("one place for each fact") against independent oracles:
Python's integer shift, torch's own pooling, the float32 rounding of the metadata, and the error text."""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from snnc.compiler.fixed_point import time_gain_apply, time_gain_float
from snnc.compiler.ir.inputs import check_input
from snnc.compiler.ir.pooling import pool_as_depthwise
from snnc.compiler.neuron_params import neuron_params
from snnc.errors import SnncError


@given(st.lists(st.integers(-2**30, 2**30), min_size=1, max_size=8), st.integers(0, 255), st.integers(0, 16))
@settings(max_examples=80, deadline=None)
def test_time_gain_apply_is_lavas_integer_shift(xs, mant, shift):
    """floor(x·m / 2^k) in float64 (NumPy and torch) equals Python's exact (x·m) >> k."""
    want = [(x * mant) >> shift for x in xs]
    x64 = np.array(xs, np.float64)
    assert time_gain_apply(x64, np.float64(mant), shift).tolist() == want
    m_t = torch.tensor(float(mant), dtype=torch.float64)
    got_t = time_gain_apply(torch.tensor(xs, dtype=torch.float64), m_t, shift)
    assert got_t.tolist() == want


def test_time_gain_float_inplace_is_the_same_product():
    x = torch.tensor([[0.1, -2.5, 3.0]], dtype=torch.float32)
    g = torch.tensor([0.7, 1.3, -0.2], dtype=torch.float32)
    want = (x * g).clone()
    assert torch.equal(time_gain_float(x.clone(), g), want)
    y = x.clone()
    assert torch.equal(time_gain_float(y, g, inplace=True), want) and torch.equal(y, want)


@pytest.mark.parametrize("kind, torch_pool", [("AvgPool2d", lambda x, k: F.avg_pool2d(x, k, k)),
                                              ("SumPool2d", lambda x, k: F.avg_pool2d(x, k, k, divisor_override=1))])
def test_pool_as_depthwise_is_the_pool(kind, torch_pool):
    x = torch.arange(2 * 3 * 6 * 4, dtype=torch.float64).reshape(2, 3, 6, 4) % 7
    w = torch.as_tensor(pool_as_depthwise(kind, 3, (2, 2)))
    assert w.shape == (3, 1, 2, 2)
    torch.testing.assert_close(F.conv2d(x, w, stride=2, groups=3), torch_pool(x, 2), rtol=0, atol=1e-12)


def _lif(meta=None, tau=2e-3):
    node = nir.LIF(tau=np.full(3, tau), r=np.full(3, 1.5), v_leak=np.zeros(3), v_threshold=np.ones(3),
                   v_reset=np.zeros(3))
    node.metadata = {"snnc": meta} if meta else {}
    return node


def test_neuron_params_metadata_first_as_float32_else_euler():
    p = neuron_params(_lif({"beta": 0.9, "gain": 0.1}), 1e-3)
    assert p.exact and p.beta == np.float64(np.float32(0.9)) and p.beta != 0.9 and p.gain == np.float64(np.float32(0.1))
    q = neuron_params(_lif(), 1e-3)  # a = dt/τ = 0.5
    assert not q.exact and q.beta.ndim == 0 and q.beta == 0.5 and q.gain == 0.75 and q.leak is None
    i = neuron_params(nir.IF(r=np.full(3, 2.0), v_threshold=np.ones(3), v_reset=np.zeros(3)), 1e-3)
    assert i.beta is None and i.gain == 2.0


def test_neuron_params_refuses_a_step_longer_than_tau_but_not_with_exact_values():
    with pytest.raises(SnncError, match=r"node 'l1': dt/tau = 2 .* outside \(0, 1\]"):
        neuron_params(_lif(tau=5e-4), 1e-3, "l1")
    assert neuron_params(_lif({"beta": 0.5, "gain": 1.0}, tau=5e-4), 1e-3, "l1").exact


def test_check_input_names_the_value():
    with pytest.raises(SnncError, match=r"^frames\.npy: expected frames of shape \[N, T, 4\], got \[1, 2, 3\]"):
        check_input(np.zeros((1, 2, 3)), (4,), "frames.npy")
    with pytest.raises(SnncError, match=r"^input: a fixed-point graph needs integer frames"):
        check_input(np.full((1, 2, 4), 0.5), (4,), fixed=True)
    with pytest.raises(SnncError, match=r"^input: T = 3 exceeds the TimeGain length 2"):
        check_input(np.zeros((1, 3, 4)), (4,), max_T=2)
    assert check_input(torch.ones(1, 2, 4), (4,)).dtype == np.float32
