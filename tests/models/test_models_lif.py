"""LIF / PLIF neurons: hand-computed sequences, an independent NumPy loop, the surrogate gradient."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snnc.models.lif import LIF, PLIF


def numpy_lif(x: np.ndarray, beta: float, v_th: float, gain: float = 1.0) -> np.ndarray:
    """Reference: v = beta * v + gain * x (float32), spike at v >= v_th, v <- 0 after a spike."""
    beta32, gain32, th32 = np.float32(beta), np.float32(gain), np.float32(v_th)
    v = np.zeros(x.shape[:1] + x.shape[2:], dtype=np.float32)
    out = np.zeros_like(x, dtype=np.float32)
    for t in range(x.shape[1]):
        drive = x[:, t] if gain32 == 1 else gain32 * x[:, t]
        v = beta32 * v + drive
        s = v >= th32
        out[:, t] = s
        v = np.where(s, np.float32(0), v)
    return out


def test_lif_hand_computed_sequence():
    # v: 0.2, 0.26, 0.278, 0.5834 (spike, reset), 0, 0.31 (spike), 0.3 (spike: fires at >=)
    x = torch.tensor([0.2, 0.2, 0.2, 0.5, 0.0, 0.31, 0.3]).reshape(1, 7, 1)
    s = LIF(beta=0.3, v_th=0.3)(x)
    assert s.flatten().tolist() == [0, 0, 0, 1, 0, 1, 1]


def test_lif_reset_before_decay():
    # beta 0.5, v_th 1: v = 1.0 spikes, resets to 0, then v = 0.5 * 0 + 0.9 = 0.9 (no spike)
    x = torch.tensor([1.0, 0.9, 0.9]).reshape(1, 3, 1)
    assert LIF(beta=0.5, v_th=1.0)(x).flatten().tolist() == [1, 0, 1]


def test_lif_exposes_float32_parameters():
    lif = LIF(beta=0.3, v_th=0.3)
    assert lif.beta == float(np.float32(0.3)) and lif.v_th == float(np.float32(0.3))
    assert lif.gain == 1.0 and lif.v_reset == 0.0


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, (2, 12, 3), elements=st.floats(-1, 2, width=32)),
       st.sampled_from([(0.3, 0.3), (0.5, 1.0), (0.9, 0.5)]))
def test_lif_matches_numpy_loop(x, params):
    beta, v_th = params
    got = LIF(beta=beta, v_th=v_th)(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got, numpy_lif(x, beta, v_th))


@settings(max_examples=20, deadline=None)
@given(arrays(np.float32, (2, 10, 4), elements=st.floats(-1, 3, width=32)))
def test_plif_is_canonical_lif_with_k(x):
    plif = PLIF(v_th=1.0)
    with torch.no_grad():
        plif.w.fill_(0.7)
    k = float(torch.sigmoid(torch.tensor(0.7, dtype=torch.float32)))
    assert plif.gain == k and plif.beta == float(np.float32(1) - np.float32(k))
    got = plif(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_array_equal(got, numpy_lif(x, plif.beta, 1.0, gain=plif.gain))


def test_plif_initial_k_is_half():
    p = PLIF()
    assert p.gain == 0.5 and p.beta == 0.5 and p.v_th == 1.0


def test_rectangular_surrogate_gradient():
    # single step: dS/dx = 1/(2a) = 2 inside |x - v_th| < 0.25, else 0
    x = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.5, 0.54, 0.56]).reshape(-1, 1, 1).requires_grad_(True)
    LIF(beta=0.3, v_th=0.3)(x).sum().backward()
    assert x.grad.flatten().tolist() == [0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 0.0]


def test_plif_leak_gets_gradient():
    p = PLIF()
    p(torch.rand(2, 6, 5) * 3).sum().backward()
    assert p.w.grad is not None and torch.isfinite(p.w.grad).all()
