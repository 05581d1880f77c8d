"""TCSA (the MA-SNN baseline): the three attention maps against a direct NumPy formula."""

from __future__ import annotations

import numpy as np
import torch

from snnc.models import build_model, demo_config
from snnc.models.tcsa import TCSA


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def mlp(x, seq):
    w1, w2 = seq[0].weight.detach().double().numpy(), seq[2].weight.detach().double().numpy()
    return np.maximum(x @ w1.T, 0) @ w2.T


def numpy_tcsa(x, m):
    x = x.astype(np.float64)
    a_t = sigmoid(mlp(x.mean(axis=(2, 3, 4)), m.time_mlp) + mlp(x.max(axis=(2, 3, 4)), m.time_mlp))
    x = a_t[:, :, None, None, None] * x
    a_c = sigmoid(mlp(x.mean(axis=(1, 3, 4)), m.channel_mlp) + mlp(x.max(axis=(1, 3, 4)), m.channel_mlp))
    x = a_c[:, None, :, None, None] * x
    n, t, c, h, w = x.shape
    merged = x.reshape(n, t * c, h, w)
    desc = np.stack([merged.mean(1), merged.max(1)], 1)
    k = m.conv.weight.detach().double().numpy()
    pad = np.pad(desc, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = sum(k[0, ch, i, j] * pad[:, ch, i:i + h, j:j + w] for ch in range(2) for i in range(3) for j in range(3))
    return np.maximum(sigmoid(conv)[:, None, None] * x, 0)


def test_tcsa_matches_numpy_formula():
    torch.manual_seed(0)
    m = TCSA(10, 16)
    x = torch.randn(3, 10, 16, 5, 4)
    with torch.no_grad():
        y = m(x).numpy()
    np.testing.assert_allclose(y, numpy_tcsa(x.numpy(), m), rtol=0, atol=1e-5)


def test_tcsa_all_parameters_learn_and_output_is_nonnegative():
    m = TCSA(8, 8)
    x = torch.randn(2, 8, 8, 4, 4)
    y = m(x)
    assert (y >= 0).all()
    y.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


def test_tcsa_in_a_model():
    m = build_model(demo_config("tcsa")).eval()
    assert all(isinstance(b.attn, TCSA) for b in m.blocks[:3])
    with torch.no_grad():
        assert m(torch.rand(1, 8, 2, 32, 32)).shape == (1, 8)
