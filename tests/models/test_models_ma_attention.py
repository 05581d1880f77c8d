"""MA-SNN attention (TA, CA, SA, TCSA): the released step-by-step computation in NumPy (float64) as
the oracle, for every subset of dimensions, kernel sizes and ratios."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.models import build_model, demo_config
from snnc.models.ma_attention import KINDS, MultiDimAttention


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def mlp(v, fc1, fc2):
    w1, w2 = fc1.weight.detach().double().numpy(), fc2.weight.detach().double().numpy()
    return np.maximum(v @ w1.T, 0) @ w2.T


def conv2d_same(desc, k):
    n, _, h, w = desc.shape
    r = k.shape[-1] // 2
    pad = np.pad(desc, ((0, 0), (0, 0), (r, r), (r, r)))
    return sum(k[0, ch, i, j] * pad[:, ch, i:i + h, j:j + w]
               for ch in range(2) for i in range(k.shape[2]) for j in range(k.shape[3]))


def released(x: np.ndarray, m: MultiDimAttention) -> np.ndarray:
    """``MA_SNN/module/Attention.py``: out = ta(x)·x; out = ca(out)·out; out = sa(out)·out; relu(out)."""
    x = x.astype(np.float64)
    if "t" in m.dims:
        x = sigmoid(mlp(x.mean(axis=(2, 3, 4)), m.time_fc1, m.time_fc2)
                    + mlp(x.max(axis=(2, 3, 4)), m.time_fc1, m.time_fc2))[:, :, None, None, None] * x
    if "c" in m.dims:
        x = sigmoid(mlp(x.mean(axis=(1, 3, 4)), m.channel_fc1, m.channel_fc2)
                    + mlp(x.max(axis=(1, 3, 4)), m.channel_fc1, m.channel_fc2))[:, None, :, None, None] * x
    if "s" in m.dims:
        n, t, c, h, w = x.shape
        merged = x.reshape(n, t * c, h, w)
        desc = np.stack([merged.mean(1), merged.max(1)], 1)
        x = sigmoid(conv2d_same(desc, m.spatial.weight.detach().double().numpy()))[:, None, None] * x
    return np.maximum(x, 0)


@settings(max_examples=25, deadline=None)
@given(dims=st.sampled_from(sorted(set(KINDS.values()))), n=st.integers(1, 3), t=st.integers(2, 9),
       c=st.integers(2, 9), h=st.integers(1, 6), w=st.integers(1, 6), t_ratio=st.integers(1, 4),
       c_ratio=st.integers(1, 4), kernel=st.sampled_from([3, 7]), seed=st.integers(0, 2**16))
def test_attention_equals_released_formula(dims, n, t, c, h, w, t_ratio, c_ratio, kernel, seed):
    torch.manual_seed(seed)
    m = MultiDimAttention(t, c, dims, t_ratio=t_ratio, c_ratio=c_ratio, kernel_size=kernel)
    x = torch.randn(n, t, c, h, w)
    with torch.no_grad():
        y = m(x).numpy()
    np.testing.assert_allclose(y, released(x.numpy(), m), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_parameter_learns_and_output_is_nonnegative(kind):
    torch.manual_seed(1)
    m = MultiDimAttention(8, 8, KINDS[kind])
    y = m(torch.randn(2, 8, 8, 4, 4))
    assert (y >= 0).all()
    y.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_attention_in_a_model(kind):
    m = build_model(demo_config(kind)).eval()
    assert all(isinstance(b.attn, MultiDimAttention) and b.attn.dims == KINDS[kind] for b in m.blocks[:3])
    with torch.no_grad():
        assert m(torch.rand(1, 8, 2, 32, 32)).shape == (1, 8)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="dims"):
        MultiDimAttention(8, 8, "xy")
    with pytest.raises(ValueError, match="kernel"):
        MultiDimAttention(8, 8, "s", kernel_size=5)
