"""ASA's squeeze and excitation ablations (supplement Tables S7, S8) against NumPy oracles written from
the equations: S5/S7/S8 squeezes, the MLP, an ECA-style 1-D conv along T and SimAM along T."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.models.asa import ASA


def numpy_scores(x: np.ndarray, m: ASA) -> np.ndarray:
    x = x.astype(np.float64)
    avg, mx = x.mean(axis=(3, 4)), x.max(axis=(3, 4))  # (N, T, C)
    if m.squeeze == "s5":
        a, g = float(m.alpha.detach()), float(m.gamma.detach())
        d = 0.5 * (avg + mx) + a * avg + g * mx
    elif m.squeeze == "s7":
        d = avg
    else:
        d = 0.5 * (avg + mx)
    d = d.transpose(0, 2, 1)  # (N, C, T)
    if m.excitation == "mlp":
        w1 = m.fc1.weight.detach().double().numpy()
        out = d @ w1.T
        if m.fc2 is not None:
            out = np.maximum(out, 0) @ m.fc2.weight.detach().double().numpy().T
    elif m.excitation == "eca":
        k = m.eca.weight.detach().double().numpy().reshape(-1)
        r = len(k) // 2
        pad = np.pad(d, ((0, 0), (0, 0), (r, r)))
        out = sum(k[j] * pad[..., j:j + d.shape[-1]] for j in range(len(k)))
    else:
        dev = (d - d.mean(axis=-1, keepdims=True)) ** 2
        var = dev.sum(axis=-1, keepdims=True) / (d.shape[-1] - 1)
        out = d / (1 + np.exp(-(dev / (4 * (var + 1e-4)) + 0.5)))
    return out.transpose(0, 2, 1)


@settings(max_examples=30, deadline=None)
@given(squeeze=st.sampled_from(["s5", "s7", "s8"]), excitation=st.sampled_from(["mlp", "eca", "simam"]),
       t=st.integers(2, 12), c=st.integers(2, 8), r=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_scores_equal_the_equations(squeeze, excitation, t, c, r, seed):
    if t // r < 1:
        return
    torch.manual_seed(seed)
    m = ASA(t, c, reduction=r, squeeze=squeeze, excitation=excitation)
    x = torch.randn(2, t, c, 3, 4)
    from snnc.models.asa import asa_scores

    with torch.no_grad():
        got = asa_scores(x, *m.params()[:4], **m.options()).numpy()
    np.testing.assert_allclose(got, numpy_scores(x.numpy(), m), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("squeeze,excitation", [("s7", "mlp"), ("s8", "mlp"), ("s5", "eca"), ("s5", "simam")])
def test_variant_masks_are_per_sample_and_only_spatial_convs_learn(squeeze, excitation):
    torch.manual_seed(0)
    m = ASA(8, 6, reduction=2, squeeze=squeeze, excitation=excitation)
    x = torch.rand(3, 8, 6, 4, 4)
    assert torch.equal(m.masks(x[:1]), m.masks(x)[:1])  # a sample's masks do not depend on its batch
    torch.testing.assert_close(m(x[:1]), m(x)[:1], rtol=1e-5, atol=1e-6)
    m(x).sum().backward()
    learned = {n for n, p in m.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert learned == {"conv1.weight", "conv2.weight"}


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="squeeze"):
        ASA(8, 4, squeeze="s6")
    with pytest.raises(ValueError, match="excitation"):
        ASA(8, 4, excitation="gru")


@settings(max_examples=30, deadline=None)
@given(t=st.integers(2, 12), c=st.integers(2, 8), r=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_s5_with_untrained_alpha_gamma_selects_the_same_masks_as_s8(t, c, r, seed):
    """α = γ = 0.5 (they never learn): Eq. S5 = avg + max = 2 · Eq. S8, and the bias-free MLP with ReLU is
    positively homogeneous, so the top-k masks of the two squeezes coincide (the same network)."""
    if t // r < 1:
        return
    torch.manual_seed(seed)
    s5 = ASA(t, c, reduction=r, squeeze="s5")
    s8 = ASA(t, c, reduction=r, squeeze="s8")
    s8.load_state_dict({k: v for k, v in s5.state_dict().items() if k not in ("alpha", "gamma")})
    x = torch.randn(3, t, c, 4, 4)
    assert torch.equal(s5.masks(x), s8.masks(x))


def test_a_trained_alpha_would_break_the_s5_s8_equivalence():
    torch.manual_seed(0)
    s5, s8 = ASA(8, 16, squeeze="s5"), ASA(8, 16, squeeze="s8")
    s8.load_state_dict({k: v for k, v in s5.state_dict().items() if k not in ("alpha", "gamma")})
    x = torch.randn(4, 8, 16, 4, 4)
    with torch.no_grad():
        s5.alpha.fill_(0.9)
    assert not torch.equal(s5.masks(x), s8.masks(x))
