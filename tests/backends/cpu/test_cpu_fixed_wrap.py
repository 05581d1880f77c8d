"""Fixed-point edge cases of the CPU simulator against ``snnc.compiler.fixed_point`` (verified against Lava).

- A fixed ``Conv2d`` output **wraps** modulo 2^24 into [−2^23, 2^23) (Lava 0.10.0's ``signed_clamp`` is a
  modulo): oracle = an int64 NumPy convolution (explicit loops, no torch) + ``conv_output_clamp``, and the
  LoihiLIF behind it = an independent line-by-line transcription of Lava's LIF.
- The LoihiLIF reproduces Lava's int32 wrap of ``a_in << 6`` at extreme inputs (``fixed_point.lif_step``).
- Optionally (``lava`` marker) the same conv graph on real Lava equals the CPU simulator.
"""

from __future__ import annotations

import numpy as np
import nir
import pytest

from snnc.backends.cpu import run
from snnc.compiler import fixed_point as fp
from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import make_graph

C, H, W, K, OUT = 8, 6, 6, 5, 3


def _conv_int64(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    """Cross-correlation of x [F, C, H, W] with w [O, C, k, k], stride 1, zero padding, in int64."""
    f, _, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = np.zeros((f, x.shape[1], h + 2 * pad, wd + 2 * pad), np.int64)
    xp[:, :, pad:pad + h, pad:pad + wd] = x
    oh, ow = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    y = np.zeros((f, o, oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i:i + k, j:j + k].reshape(f, -1)
            y[:, :, i, j] = patch @ w.reshape(o, -1).T
    return y


def _conv_graph(w: np.ndarray, with_lif: bool, vth: int = 1000, dv: int = 300):
    cshape = (OUT, H, W)
    nodes = {"input": nir.Input(input_type=np.array([C, H, W])),
             "conv": nir.Conv2d(input_shape=(H, W), weight=w.astype(np.float64), stride=1, padding=K // 2,
                                dilation=1, groups=1, bias=np.zeros(OUT)),
             "output": nir.Output(output_type=np.array(cshape))}
    edges = [("input", "conv")]
    if with_lif:
        nodes["lif"] = ext.LoihiLIF(du=4095, dv=dv, vth=vth, bias_mant=np.zeros(cshape, np.int64),
                                    bias_exp=np.zeros(cshape, np.int64), shape=np.array(cshape))
        edges += [("conv", "lif"), ("lif", "output")]
    else:
        edges += [("conv", "output")]
    return make_graph(nodes, edges, {"snnc": {"numerics": "fixed", "threshold": ">", "T": 3}})


def _inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = np.full((OUT, C, K, K), 254, np.int64)
    w[1] = -256
    w[2] = 2 * rng.integers(-128, 128, size=(C, K, K))
    x = rng.integers(100, 256, size=(2, 3, C, H, W)).astype(np.float32)  # large event counts
    return w, x


def test_fixed_conv_output_wraps_modulo_2_24():
    w, x = _inputs()
    raw = _conv_int64(x.reshape(-1, C, H, W).astype(np.int64), w, K // 2)
    ref = fp.conv_output_clamp(raw).reshape(2, 3, OUT, H, W)
    assert np.any(raw > 2**23 - 1) and np.any(raw < -2**23), "the case must exercise the wrap both ways"
    assert np.all((ref >= -2**23) & (ref < 2**23))
    got = run(_conv_graph(w, with_lif=False), x).output
    np.testing.assert_array_equal(got.astype(np.int64), ref)
    assert not np.array_equal(ref, np.clip(raw, -2**23, 2**23 - 1).reshape(ref.shape)), "wrap must differ from clamp"


def _lava_lif_transcription(a_in: np.ndarray, du: int, dv: int, vth: int):
    """Lava 0.10.0 ``PyLifModelBitAcc`` for a_in [T, n] (zero bias), transcribed; spikes and v per step."""
    u = np.zeros(a_in.shape[1], np.int64)
    v = np.zeros(a_in.shape[1], np.int64)
    out_s, out_v = [], []
    for a in a_in:
        p = u * (4096 - (du + 1))
        u = np.sign(p) * (np.abs(p) >> 12) + (a.astype(np.int64) << 6)
        u = np.where(u > 2**23, u - 2**24, u)
        u = np.where(u <= -2**23, u + 2**24, u)
        q = v * (4096 - dv)
        v = np.clip(np.sign(q) * (np.abs(q) >> 12) + u, -2**23 + 1, 2**23 - 1)
        s = v > (vth << 6)
        v = np.where(s, 0, v)
        out_s.append(s)
        out_v.append(v)
    return np.array(out_s), np.array(out_v)


def test_loihi_lif_behind_wrapped_conv_equals_lava_transcription():
    w, x = _inputs(1)
    vth, dv = 5000, 300
    res = run(_conv_graph(w, with_lif=True, vth=vth, dv=dv), x, record_voltage=True)
    for i in range(len(x)):
        a = fp.conv_output_clamp(_conv_int64(x[i].astype(np.int64), w, K // 2)).reshape(3, -1)
        s, v = _lava_lif_transcription(a, 4095, dv, vth)
        np.testing.assert_array_equal(res.spikes["lif"][i].reshape(3, -1), s.astype(np.float32))
        np.testing.assert_array_equal(res.voltages["lif"][i].reshape(3, -1), v)


def test_loihi_lif_wraps_int32_like_lava_at_extreme_inputs():
    """a_in << 6 beyond int32 wraps (Lava's int32 arithmetic); oracle: ``fixed_point.lif_step``."""
    rng = np.random.default_rng(2)
    n_in, n, T = 6, 5, 6
    w = rng.integers(1 << 24, 1 << 26, size=(n, n_in)) * rng.choice([-2, 2], size=(n, n_in))
    nodes = {"input": nir.Input(input_type=np.array([n_in])),
             "fc": nir.Affine(weight=w.astype(np.float64), bias=np.zeros(n)),
             "lif": ext.LoihiLIF(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)), vth=20000,
                                 bias_mant=rng.integers(-4096, 4096, size=n), bias_exp=np.full(n, 3),
                                 shape=np.array([n])),
             "output": nir.Output(output_type=np.array([n]))}
    g = make_graph(nodes, [("input", "fc"), ("fc", "lif"), ("lif", "output")],
                   {"snnc": {"numerics": "fixed", "threshold": ">", "T": T}})
    x = (rng.random((2, T, n_in)) < 0.6).astype(np.float32)
    res = run(g, x, record_voltage=True)
    lif = nodes["lif"]
    wrapped = False
    for i in range(len(x)):
        u = v = np.zeros(n, np.int64)
        for t in range(T):
            a = x[i, t].astype(np.int64) @ w.T
            wrapped |= bool(np.any(np.abs(a << 6) >= 2**31))
            u, v, s = fp.lif_step(u, v, a, lif.du, lif.dv, lif.vth, lif.bias_mant, lif.bias_exp)
            np.testing.assert_array_equal(res.voltages["lif"][i, t], v, err_msg=f"v at sample {i} step {t}")
            np.testing.assert_array_equal(res.spikes["lif"][i, t], s.astype(np.float32))
    assert wrapped, "the case must exercise the int32 wrap"


@pytest.mark.lava
def test_wrapped_conv_on_real_lava_equals_cpu():
    from snnc.backends.lava import run as lava_run

    w, x = _inputs(3)
    g = _conv_graph(w, with_lif=True, vth=5000, dv=300)
    lava = lava_run(g, x, timing="lava", record_voltage=True)
    cpu = run(g, x, timing="lava", record_voltage=True)
    np.testing.assert_array_equal(lava.spikes["lif"], cpu.spikes["lif"])
    np.testing.assert_array_equal(lava.voltages["lif"], cpu.voltages["lif"])
