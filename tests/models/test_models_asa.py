"""ASA: per-sample masks against an independent NumPy rule, non-causality, gradients, the factor form."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.models.asa import ASA, asa_factor, asa_masks, asa_scores


def numpy_scores(x, alpha, gamma, fc1, fc2):
    """M = fc(0.5 (avg + max) + alpha avg + gamma max) along T, in float64."""
    x = x.astype(np.float64)
    avg, mx = x.mean(axis=(3, 4)), x.max(axis=(3, 4))
    m = 0.5 * (avg + mx) + alpha * avg + gamma * mx  # (N, T, C)
    m = np.einsum("ntc,jt->njc", m, fc1.astype(np.float64))
    if fc2 is not None:
        m = np.einsum("njc,tj->ntc", np.maximum(m, 0), fc2.astype(np.float64))
    return m


def numpy_masks(m, lam=0.5):
    """XOR of per-(n,t) channel top-k and per-(n,c) time top-k; ties: higher score, then lower index."""
    n, t, c = m.shape
    kc, kt = int(c * lam), int(t * lam)
    i_c = np.zeros_like(m)
    i_t = np.zeros_like(m)
    for a in range(n):
        for b in range(t):
            for j in sorted(range(c), key=lambda j: (-m[a, b, j], j))[:kc]:
                i_c[a, b, j] = 1
        for j in range(c):
            for b in sorted(range(t), key=lambda b: (-m[a, b, j], b))[:kt]:
                i_t[a, b, j] = 1
    return (i_c != i_t).astype(np.float32)


def conv3x3(img, w):
    """Zero-padded 3x3 cross-correlation of (2, H, W) with w (1, 2, 3, 3) -> (H, W)."""
    _, h, wd = img.shape
    pad = np.pad(img, ((0, 0), (1, 1), (1, 1)))
    return sum(w[0, c, i, j] * pad[c, i:i + h, j:j + wd] for c in range(2) for i in range(3) for j in range(3))


def numpy_factor(x, alpha, gamma, fc1, fc2, conv1, conv2, lam=0.5):
    x64 = x.astype(np.float64)
    imp = numpy_masks(numpy_scores(x, alpha, gamma, fc1, fc2), lam)[..., None, None]
    n, t, c, h, w = x.shape
    out = np.empty_like(x64)
    for a in range(n):
        xi = (imp[a] * x64[a]).reshape(t * c, h, w)
        xs = ((1 - imp[a]) * x64[a]).reshape(t * c, h, w)
        a1 = 1 / (1 + np.exp(-conv3x3(np.stack([xi.mean(0) / lam, xi.max(0)]), conv1)))
        a2 = 1 / (1 + np.exp(-conv3x3(np.stack([xs.mean(0) / (1 - lam), xs.max(0)]), conv2)))
        out[a] = imp[a] * a1 + (1 - imp[a]) * a2
    return out


def params(m: ASA):
    f = m.fc2.weight.detach().numpy() if m.fc2 is not None else None
    return 0.5, 0.5, m.fc1.weight.detach().numpy(), f, m.conv1.weight.detach().numpy(), m.conv2.weight.detach().numpy()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(2, 9), st.integers(2, 7), st.sampled_from([1, 2]))
def test_masks_match_numpy_rule_with_ties(seed, n, t, c, r):
    # small integer data and weights: every score is exact in float32 and float64, and ties are common
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (n, t, c, 2, 2)).astype(np.float32)
    fc1 = rng.integers(-1, 2, (t // r, t)).astype(np.float32)
    fc2 = rng.integers(-1, 2, (t, t // r)).astype(np.float32) if r > 1 else None
    got = asa_masks(torch.from_numpy(x), 0.5, 0.5, fc1, fc2).numpy()
    np.testing.assert_array_equal(got, numpy_masks(numpy_scores(x, 0.5, 0.5, fc1, fc2)))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.sampled_from([4, 6, 8]), st.integers(4, 8))
def test_masks_on_continuous_scores(seed, n, t, c):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((n, t, c, 3, 3)).astype(np.float32))
    m = ASA(t, c, reduction=2)
    got = m.masks(x).numpy()
    scores = asa_scores(x, *[p for p in m.params()[:4]]).detach().numpy()
    np.testing.assert_array_equal(got, numpy_masks(scores))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.sampled_from([4, 6]), st.integers(4, 6), st.sampled_from([1, 2]))
def test_factor_matches_numpy_formula(seed, n, t, c, r):
    torch.manual_seed(seed % 1000)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, t, c, 4, 5)).astype(np.float32)
    m = ASA(t, c, reduction=r)
    with torch.no_grad():
        got = m.factor(torch.from_numpy(x)).numpy()
        y = m(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, numpy_factor(x, *params(m)), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(y, x * got)


def test_factor_accepts_numpy_parameters_bit_identically():
    m = ASA(8, 6, reduction=4)
    x = torch.randn(2, 8, 6, 5, 5)
    with torch.no_grad():
        np.testing.assert_array_equal(asa_factor(x.numpy(), *params(m)).numpy(), m.factor(x).numpy())


def test_released_two_branch_form_equals_factor_form():
    """y = A1 * X_imp + A2 * X_sub (the released code's form) equals x * factor."""
    m = ASA(8, 6, reduction=2)
    x = torch.randn(3, 8, 6, 5, 5)
    with torch.no_grad():
        imp = m.masks(x)[..., None, None]
        x_imp, x_sub = (imp * x).flatten(1, 2), ((1 - imp) * x).flatten(1, 2)
        d1 = torch.cat([x_imp.mean(1, keepdim=True) / 0.5, x_imp.amax(1, keepdim=True)], 1)
        d2 = torch.cat([x_sub.mean(1, keepdim=True) / 0.5, x_sub.amax(1, keepdim=True)], 1)
        a1, a2 = torch.sigmoid(m.conv1(d1)), torch.sigmoid(m.conv2(d2))
        released = (a1 * x_imp + a2 * x_sub).reshape(x.shape)
        y, f = m(x), m.factor(x)
    torch.testing.assert_close(released, y, rtol=0, atol=1e-6)
    assert ((f > 0) & (f < 1)).all()  # ASA only attenuates


def test_asa_is_not_causal():
    torch.manual_seed(1)
    m = ASA(8, 6, reduction=2)
    x = torch.rand(1, 8, 6, 5, 5)
    x2 = x.clone()
    x2[:, -1] += torch.rand(1, 6, 5, 5) * 3
    with torch.no_grad():
        assert not torch.equal(m(x)[:, 0], m(x2)[:, 0])


def test_masks_are_per_sample():
    torch.manual_seed(2)
    m = ASA(8, 6, reduction=2)
    x = torch.randn(4, 8, 6, 5, 5)
    with torch.no_grad():
        batched, masks = m(x), m.masks(x)
        for i in range(4):
            np.testing.assert_array_equal(m.masks(x[i:i + 1]).numpy(), masks[i:i + 1].numpy())
            torch.testing.assert_close(m(x[i:i + 1]), batched[i:i + 1], rtol=0, atol=1e-6)


def test_batch_size_one_and_fraction_of_masks():
    m = ASA(8, 6, reduction=4)
    y = m(torch.rand(1, 8, 6, 4, 4))
    assert y.shape == (1, 8, 6, 4, 4)
    assert m.k_c == 3 and m.k_t == 4


def test_only_spatial_convs_get_gradients():
    m = ASA(8, 6, reduction=2)
    x = torch.rand(2, 8, 6, 5, 5, requires_grad=True)
    m(x).square().sum().backward()
    assert m.alpha.grad is None and m.gamma.grad is None
    assert m.fc1.weight.grad is None and m.fc2.weight.grad is None
    assert m.conv1.weight.grad is not None and m.conv1.weight.grad.abs().sum() > 0
    assert m.conv2.weight.grad is not None and m.conv2.weight.grad.abs().sum() > 0
    assert x.grad is not None


def test_reduction_one_is_single_linear():
    m = ASA(6, 4, reduction=1)
    assert m.fc2 is None and tuple(m.fc1.weight.shape) == (6, 6)
    assert tuple(ASA(8, 4, reduction=4).fc1.weight.shape) == (2, 8)
