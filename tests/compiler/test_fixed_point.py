"""snnc.compiler.fixed_point against running Lava 0.10.0 (exact equality) and its own properties.

Lava oracles use Lava's stock processes (LIF, Dense, Conv, RingBuffer, Monitor) with random
integer parameters chosen to reach the corner cases: u wrap, v saturation, negative decays,
negative bias exponents, Dense clipping and LSB truncation in all sign modes, weight_exp, graded
messages, and Conv's 24-bit wrap with huge unclipped weights.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fixed_point_oracles import dense_accumulate, encode_weights  # tests/compiler/fixed_point_oracles.py
from snnc_testing import nir_lif_to_lava

from snnc.backends.lava import compat
from snnc.compiler import fixed_point as fp

compat.install()  # before any Lava import (Python 3.11 fix)


def _lava_run(procs, steps: int, tag: str = "fixed_pt"):
    from snnc.backends.lava.compat import install

    install()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    procs[0].run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag=tag))


def _monitor(target, steps):
    from lava.proc.monitor.process import Monitor

    m = Monitor()
    m.probe(target, steps)
    return m


def _join(out_ports, shape):
    """Connect several independent sub-networks to one sink so that a single run executes them all."""
    from lava.proc.io.sink import RingBuffer as Sink

    sink = Sink(shape=shape, buffer=1)
    for p in out_ports:
        p.connect(sink.a_in)
    return sink


def _data(m, proc, name):
    d = m.get_data()[proc.name][name]
    return np.asarray(d)


@pytest.mark.lava
def test_lif_matches_lava_bit_accurate():
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    from snnc.backends.lava.compat import install

    install()
    rng = np.random.default_rng(1)
    T, n = 40, 12
    configs = [  # (du, dv, vth, a_in scale, bias_exp range)
        (4095, int(rng.integers(0, 4096)), int(rng.integers(0, 300)), 400, (0, 8)),
        (int(rng.integers(0, 4096)), 0, 131071, 1 << 17, (0, 8)),   # u wraps, v saturates
        (int(rng.integers(0, 4096)), int(rng.integers(0, 4096)), int(rng.integers(0, 2000)), 3000, (-3, 8)),
    ]
    cases = []
    for du, dv, vth, amp, (elo, ehi) in configs:
        a = rng.integers(-amp, amp, size=(n, T)).astype(np.int32)
        bm = rng.integers(-4096, 4096, size=n)
        be = rng.integers(elo, ehi, size=n)
        src = RingBuffer(data=a)
        lif = LIF(shape=(n,), du=du, dv=dv, vth=vth, bias_mant=bm, bias_exp=be)
        src.s_out.connect(lif.a_in)
        mons = [_monitor(lif.u, T), _monitor(lif.v, T), _monitor(lif.s_out, T)]
        cases.append((a, du, dv, vth, bm, be, lif, mons))
    _join([c[6].s_out for c in cases], (n,))
    try:
        _lava_run([cases[0][6]], T)
        got = [[_data(m, c[6], k) for m, k in zip(c[7], ("u", "v", "s_out"))] for c in cases]
    finally:
        cases[0][6].stop()
    for (a, du, dv, vth, bm, be, _, _), (lu, lv, ls) in zip(cases, got):
        u = v = np.zeros(n, np.int64)
        for t in range(T):
            u, v, s = fp.lif_step(u, v, a[:, t], du, dv, vth, bm, be)
            np.testing.assert_array_equal(lu[t], u, err_msg=f"u at step {t}")
            np.testing.assert_array_equal(lv[t], v, err_msg=f"v at step {t}")
            np.testing.assert_array_equal(ls[t], s.astype(np.int64), err_msg=f"s at step {t}")


@pytest.mark.lava
def test_dense_matches_lava_bit_accurate():
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer

    from snnc.backends.lava.compat import install

    install()
    rng = np.random.default_rng(2)
    T, n_in, n_out = 12, 9, 7
    w_mixed = rng.integers(-400, 400, size=(n_out, n_in))
    configs = [(w_mixed, 0, 0), (np.abs(w_mixed), 1, 0), (-np.abs(w_mixed), -2, 0), (w_mixed, -1, 8)]
    cases = []
    for w, wexp, bits in configs:
        s = (rng.random((n_in, T)) < 0.5).astype(np.int32)
        if bits:
            s = s * rng.integers(-50, 50, size=(n_in, T)).astype(np.int32)
        src = RingBuffer(data=s)
        d = Dense(weights=w, weight_exp=wexp, num_message_bits=bits)
        src.s_out.connect(d.s_in)
        cases.append((w, wexp, bits, s, d, _monitor(d.a_buff, T)))
    _join([c[4].a_out for c in cases], (n_out,))
    try:
        _lava_run([cases[0][4]], T)
        got = [_data(m, d, "a_buff") for *_, d, m in cases]
    finally:
        cases[0][4].stop()
    for (w, wexp, bits, s, _, _), lava_a in zip(cases, got):
        eff = fp.dense_effective_weights(w)
        ref = dense_accumulate(eff, s.T, wexp, graded=bits > 0)
        np.testing.assert_array_equal(lava_a, ref)
    # the properties the encoder relies on: even mixed mantissas pass unchanged, odd ones floor
    assert np.array_equal(fp.dense_effective_weights(np.array([[-256, 254, -2, 100]])), [[-256, 254, -2, 100]])
    assert np.array_equal(fp.dense_effective_weights(np.array([[101, -3, 1000]])), [[100, -4, 254]])


@pytest.mark.lava
def test_conv_matches_lava_fixed_and_wraps_24_bits():
    import torch
    from lava.proc.conv.process import Conv
    from lava.proc.io.source import RingBuffer

    from snnc.backends.lava.compat import install
    from snnc.backends.lava.layout import lava_conv_params

    install()
    rng = np.random.default_rng(3)
    T, C, H, W, K = 4, 2, 7, 6, 3
    w = rng.integers(-300, 300, size=(K, C, 3, 2)).astype(np.int64)
    w[0] = 1 << 21  # unclipped, and sums past 2^23: Lava wraps them into 24 bits
    w[1, :, 0] = -(1 << 21)
    stride, padding, dilation = (2, 1), (1, 2), (1, 2)
    x = (rng.random((T, C, H, W)) < 0.7).astype(np.int32)
    p = lava_conv_params(w, (C, H, W), stride, padding, dilation, 1)
    src = RingBuffer(data=x.transpose(0, 3, 2, 1).transpose(1, 2, 3, 0))  # (W, H, C, T)
    conv = Conv(weight=p["weight"].astype(np.int32), input_shape=p["input_shape"], stride=p["stride"],
                padding=p["padding"], dilation=p["dilation"], groups=1, weight_exp=3)  # weight_exp is ignored
    src.s_out.connect(conv.s_in)
    mon = _monitor(conv.a_buf, T)
    try:
        _lava_run([conv], T)
        got = _data(mon, conv, "a_buf")
    finally:
        conv.stop()
    raw = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float64), torch.tensor(w, dtype=torch.float64),
                                     stride=stride, padding=padding, dilation=dilation).numpy()
    raw = np.round(raw).astype(np.int64)
    ref = fp.conv_output_clamp(raw)
    assert np.any(ref != raw), "the case must exercise the 24-bit wrap"
    np.testing.assert_array_equal(got, ref.transpose(0, 3, 2, 1))


@given(st.integers(-(1 << 30), 1 << 30), st.integers(0, 4096))
@settings(max_examples=200, deadline=None)
def test_decay_truncates_toward_zero_symmetrically(x, factor):
    assert fp.decay(np.array([x]), factor)[0] == -fp.decay(np.array([-x]), factor)[0]
    assert abs(fp.decay(np.array([x]), factor)[0]) <= abs(x)


@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_encode_weights_even_in_range_and_lossless_through_dense(ws):
    w = np.array(ws)
    if not np.any(w):
        return
    w_int, scale = encode_weights(w)
    assert np.all(w_int % 2 == 0) and w_int.min() >= fp.W_MIN and w_int.max() <= fp.W_MAX
    np.testing.assert_array_equal(fp.dense_effective_weights(w_int[None], "mixed"), w_int[None])
    assert np.max(np.abs(w_int / scale - w)) <= 1.0 / scale + 1e-12


@given(st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=16))
@settings(max_examples=60, deadline=None)
def test_encode_gain_fits_and_is_close(gs):
    g = np.array(gs)
    mant, shift = fp.encode_gain(g)
    assert mant.max() <= fp.GAIN_MANT_MAX and 0 <= shift <= fp.GAIN_SHIFT_MAX
    assert np.max(np.abs(mant / 2.0**shift - g)) <= 0.5 / 2.0**shift + 1e-12
    x = np.arange(-50, 50)
    y = fp.time_gain_apply(x, mant[0], shift)
    np.testing.assert_array_equal(y, np.floor(x * mant[0] / 2.0**shift).astype(np.int64))


def test_encoders_round_trip_definitions():
    assert fp.decay_to_int(0.3) == round(0.7 * 4096) and fp.decay_to_int(1.0) == 0 and fp.decay_to_int(0.0) == 4095
    assert fp.vth_to_int(1.25, 64) == 80
    m, e = fp.bias_to_mant(np.array([0.5, -0.25]), 64)
    np.testing.assert_array_equal(fp.effective_bias(m, e), np.array([0.5, -0.25]) * 64 * 64)
    with pytest.raises(ValueError):
        fp.vth_to_int(3000.0, 64)
    with pytest.raises(ValueError):
        encode_weights(np.array([1.0, 2.0]), scale=200.0)


def test_nir_lif_mapping_is_the_paper_constants():
    p = nir_lif_to_lava(tau=2.5e-3, r=1.0, v_threshold=0.1, dt=1e-4)
    assert (p["du_int"], p["dv_int"], p["vth_int"], p["weight_int"]) == (4095, int(0.04 * 4095),
                                                                        int(0.1 * 131071) >> 9,
                                                                        int(np.int32(0.04 * 256)))
    assert (p["du"], p["dv"], p["vth"], p["weight"]) == (1.0, 0.04, 0.1, 0.04)
