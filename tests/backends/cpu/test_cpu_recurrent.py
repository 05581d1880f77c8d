"""Recurrent graphs run step by step: the NIR paper's Braille CubaLIF network (snnTorch export, dt = 1e-4)
against an independent float64 NumPy loop of the same equations (snnTorch ``Synaptic`` order):

    i_t = α i_{t−1} + (dt/τ_syn)·w_in·I_t,   v_t = β v'_{t−1} + (dt/τ_mem)·r·i_t,   s_t = v_t > θ,   v'_t = 0 where s_t

with I_t = fc(x_t) + W_rec s_{t−1} (the recurrent edge carries the previous step's spikes).
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.cpu import run
from snnc.errors import SnncError

DT = 1e-4


def _cuba(node):
    a_s = DT / np.asarray(node.tau_syn, np.float64)
    a_m = DT / np.asarray(node.tau_mem, np.float64)
    return 1 - a_s, a_s * np.asarray(node.w_in, np.float64), 1 - a_m, a_m * np.asarray(node.r, np.float64), \
        np.asarray(node.v_threshold, np.float64)


def braille_reference(g, x: np.ndarray, lava: bool = False) -> tuple[np.ndarray, np.ndarray]:
    fc1, fc2, rec = g.nodes["fc1"], g.nodes["fc2"], g.nodes["lif1.w_rec"]
    p1, p2 = _cuba(g.nodes["lif1.lif"]), _cuba(g.nodes["lif2"])
    n, T, _ = x.shape
    i1 = v1 = np.zeros((n, 38))
    i2 = v2 = np.zeros((n, 7))
    s1 = np.zeros((n, 38))
    out1, out2 = [], []
    W = lambda node, z: z @ np.asarray(node.weight, np.float64).T + np.asarray(node.bias, np.float64)  # noqa: E731
    for t in range(T):
        drive1 = W(fc1, x[:, t]) + W(rec, s1)
        i1 = p1[0] * i1 + p1[1] * drive1
        v1 = p1[2] * v1 + p1[3] * i1
        s1 = (v1 > p1[4]).astype(np.float64)
        v1 = np.where(s1 > 0, 0.0, v1)
        i2 = p2[0] * i2 + p2[1] * W(fc2, s1)
        v2 = p2[2] * v2 + p2[3] * i2
        s2 = (v2 > p2[4]).astype(np.float64)
        v2 = np.where(s2 > 0, 0.0, v2)
        out1.append(s1)
        out2.append(s2)
    return np.stack(out1, 1), np.stack(out2, 1)


@pytest.fixture
def braille(nir_reference):
    from snnc.frontends import load_graph

    return load_graph(str(nir_reference / "03_rnn" / "braille_noDelay_bias_zero.nir"))


def test_braille_step_by_step_equals_numpy_loop(braille):
    x = np.random.default_rng(0).uniform(0, 1, size=(3, 40, 12)).astype(np.float32)
    res = run(braille, x, dt=DT)
    assert res.extras["schedule"] == "step"
    s1, s2 = braille_reference(braille, x.astype(np.float64))
    assert s1.sum() > 0 and s2.sum() > 0
    assert np.array_equal(res.spikes["lif1.lif"], s1)
    assert np.array_equal(res.spikes["lif2"], s2)
    assert np.array_equal(res.output, s2)


def test_wrong_dt_is_refused(braille):
    """At the default dt = 1e-3 the decay 1 − dt/τ_syn would be negative: a one-line error, not nonsense."""
    with pytest.raises(SnncError, match="dt"):
        run(braille, np.zeros((1, 3, 12), np.float32))
