"""Fixed-point execution equals a line-by-line NumPy transcription of Lava 0.10.0's bit-accurate models.

Oracle: ``lava/proc/lif/models.py`` ``AbstractPyLifModelFixed.subthr_dynamics`` + ``PyLifModelBitAcc``
(spike at v > vth << 6, reset to 0) fed by a Dense (a = W·s) whose output arrives one step later
(lava timing), with a TimeGain applying floor(a·gain_mant[s(t)] / 2^shift), s(t) = max(0, t − 1).
Weights are large enough that u wraps and v saturates.
"""

from __future__ import annotations

import numpy as np
import nir
from hypothesis import given, settings, strategies as st

from snnc.backends.cpu import run
from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import make_graph
from snnc.backends.cpu import run as cpu_run


def lava_lif_reference(a_in: np.ndarray, du: int, dv: int, vth: int, bias_mant, bias_exp):
    """Spikes and v of Lava's fixed-point LIF for a_in [T, n] (transcribed from lava 0.10.0)."""
    max_uv = 2**23
    u = np.zeros(a_in.shape[1], np.int32)
    v = np.zeros(a_in.shape[1], np.int32)
    bias = np.where(bias_exp >= 0, np.left_shift(bias_mant, bias_exp), np.right_shift(bias_mant, -bias_exp))
    spikes, volts = [], []
    for a in a_in:
        dc = np.int64(u) * (4096 - (du + 1))
        dc = np.int32(np.sign(dc) * np.right_shift(np.abs(dc), 12))
        dc = dc + np.left_shift(a.astype(np.int64), 6)
        wrapped = np.where(dc > max_uv, dc - 2 * max_uv, dc)
        wrapped = np.where(wrapped <= -max_uv, dc + 2 * max_uv, wrapped)
        u = wrapped.astype(np.int64)
        dvv = np.int64(v) * (4096 - dv)
        dvv = np.int32(np.sign(dvv) * np.right_shift(np.abs(dvv), 12))
        v = np.clip(dvv + u + bias, -max_uv + 1, max_uv - 1)
        s = v > (vth << 6)
        v = np.where(s, 0, v)
        spikes.append(s)
        volts.append(v.copy())
    return np.array(spikes, np.float32), np.array(volts)


@settings(max_examples=25, deadline=None)
@given(n_in=st.integers(1, 6), n_out=st.integers(1, 5), T=st.integers(2, 12), du=st.integers(0, 4095),
       dv=st.integers(0, 4095), vth=st.integers(0, 3000), big=st.booleans(), gain=st.booleans(),
       seed=st.integers(0, 10_000))
def test_loihi_lif_equals_lava_transcription(n_in, n_out, T, du, dv, vth, big, gain, seed):
    rng = np.random.default_rng(seed)
    w = 2 * rng.integers(-128, 128, size=(n_out, n_in))
    if big:
        w = w * 2000  # Lava's Dense output is not clipped: u wraps, v saturates
    bias_mant = rng.integers(-4096, 4096, size=n_out)
    bias_exp = rng.integers(-2, 7, size=n_out)
    x = (rng.random((2, T, n_in)) < 0.5).astype(np.float32)
    nodes = {"input": nir.Input(input_type=np.array([n_in])),
             "fc": nir.Affine(weight=w.astype(np.float32), bias=np.zeros(n_out, np.float32)),
             "lif": ext.LoihiLIF(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp, shape=np.array([n_out])),
             "output": nir.Output(output_type=np.array([n_out]))}
    edges = [("input", "fc"), ("lif", "output")]
    mant, shift = rng.integers(0, 256, size=(T, n_out)), 7
    if gain:
        nodes["tg"] = ext.TimeGain(gain=mant / 2.0**shift, gain_mant=mant, gain_shift=shift, shape=np.array([n_out]))
        edges += [("fc", "tg"), ("tg", "lif")]
    else:
        edges += [("fc", "lif")]
    g = make_graph(nodes, edges, {"snnc": {"numerics": "fixed", "threshold": ">", "T": T}})
    res = run(g, x, timing="lava", record_voltage=True)
    assert res.numerics == "fixed"
    for i in range(len(x)):
        a = np.zeros((T, n_out), np.int64)
        a[1:] = x[i, :-1].astype(np.int64) @ w.T  # one step of Dense delay
        if gain:
            steps = np.maximum(0, np.arange(T) - 1)
            a = np.floor_divide(a * mant[steps], 2**shift)
        s, v = lava_lif_reference(a, du, dv, vth, bias_mant, bias_exp)
        assert np.array_equal(res.spikes["lif"][i], s)
        assert np.array_equal(res.voltages["lif"][i], v)


def test_quantized_pipeline_graph_runs(tiny_model):
    """The lava pipeline's output (fused ASA gains, fixed point) runs in fixed point, deterministically."""
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.frontends import model_to_graph

    model, x = tiny_model("lif-snn-3", "asa")
    names = select_passes("lava", fixed_point=True)
    g, _ = run_pipeline(model_to_graph(model), names, pipeline_options("lava", names),
                        context=PipelineContext(run=cpu_run, calibration=x.numpy()))
    a = run(g, x.numpy(), timing="lava")
    b = run(g, x.numpy(), timing="lava")
    assert a.numerics == "fixed"
    assert set(np.unique(a.output)) <= {0.0, 1.0}
    assert all(np.array_equal(a.spikes[k], b.spikes[k]) for k in a.spikes)
    assert sum(s.sum() for s in a.spikes.values()) > 0
