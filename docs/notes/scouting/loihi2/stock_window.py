"""PROTOTYPE: sample windows on stock Lava processes only (RingBuffer -> Conv -> LIF -> Dense -> LIF ->
sink RingBuffers), Loihi2SimCfg(select_tag='fixed_pt').

Each window = T input steps + D zero steps (D = 2 synaptic layers), then every piece of state is set
to 0 with Var.set between run() calls: LIF u and v, and the synapses' one-step buffers (Conv.a_buf,
Dense.a_buff: they hold what the layer below sent on the last padding step). The source holds all
windows back to back; one run(T + D) per window.

Checks: (1) u, v, a_buf read back as 0 at every window start; (2) spikes of every layer in window m
== a fresh Lava network run on window m alone; (3) == NumPy re-run (lava_fixed_ref).
Also runs the variant WITHOUT the a_buf/a_buff reset to show whether it matters.
Measures seconds per window (run + resets) and the Var.set cost.

Run: cd /work/scratch/loihi2 && OMP_NUM_THREADS=1 venv/bin/python stock_window.py
"""
from __future__ import annotations

import time

import numpy as np

import compat_dl

compat_dl.install()

from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402
from lava.proc.conv.process import Conv  # noqa: E402
from lava.proc.dense.process import Dense  # noqa: E402
from lava.proc.io.sink import RingBuffer as Sink  # noqa: E402
from lava.proc.io.source import RingBuffer as Source  # noqa: E402
from lava.proc.lif.process import LIF  # noqa: E402

import lava_fixed_ref as ref  # noqa: E402

T, D, WINDOWS = 8, 2, 3
CFG = Loihi2SimCfg(select_tag="fixed_pt")
rng = np.random.default_rng(3)
W1 = rng.integers(-6, 7, size=(4, 2, 3, 3))                  # torch (Cout, Cin, kH, kW)
B1 = np.array([3, 0, -2, 5])
W2 = 2 * rng.integers(-5, 6, size=(10, 4 * 8 * 8))           # even: mixed-sign Dense drops the LSB
B2 = rng.integers(-1, 4, size=10)
N1 = dict(du=4095, dv=1229, vth=10)
N2 = dict(du=1023, dv=512, vth=12)


def build(data_whct: np.ndarray, buffer: int):
    src = Source(data=data_whct.astype(np.int32))
    conv = Conv(weight=W1[:, :, ::-1, ::-1].transpose(0, 3, 2, 1), input_shape=(16, 16, 2),
                stride=(2, 2), padding=(1, 1))
    lif1 = LIF(shape=(8, 8, 4), bias_mant=np.broadcast_to(B1, (8, 8, 4)).copy(), bias_exp=6, **N1)
    dense = Dense(weights=W2)
    lif2 = LIF(shape=(10,), bias_mant=B2, bias_exp=6, **N2)
    src.s_out.connect(conv.s_in)
    conv.a_out.connect(lif1.a_in)
    lif1.s_out.transpose([2, 1, 0]).flatten().connect(dense.s_in)   # CHW flatten
    dense.a_out.connect(lif2.a_in)
    sinks = [Sink(shape=(8, 8, 4), buffer=buffer), Sink(shape=(10,), buffer=buffer)]
    lif1.s_out.connect(sinks[0].a_in)
    lif2.s_out.connect(sinks[1].a_in)
    return src, conv, lif1, dense, lif2, sinks


def to_whct(x_tchw: np.ndarray) -> np.ndarray:
    return x_tchw.transpose(3, 2, 1, 0)


def read(sinks) -> list[np.ndarray]:
    a = np.moveaxis(sinks[0].data.get(), -1, 0).transpose(0, 3, 2, 1).astype(bool)   # (T, C, H, W)
    b = np.moveaxis(sinks[1].data.get(), -1, 0).astype(bool)
    return [a, b]


def numpy_window(x: np.ndarray) -> list[np.ndarray]:
    lif1 = ref.LifFixed((4, 8, 8), bias_mant=B1[:, None, None], **N1)
    lif2 = ref.LifFixed((10,), bias_mant=B2, **N2)
    prev0, prev1, out = np.zeros_like(x[0]), np.zeros((4, 8, 8), bool), [[], []]
    for t in range(x.shape[0]):
        a1 = ref.conv_out_wrap(ref.conv2d(prev0, W1, 2, 1)) if t else np.zeros((4, 8, 8), np.int64)
        a2 = W2 @ prev1.reshape(-1) if t else np.zeros(10, np.int64)
        prev0 = x[t]
        s1 = lif1.step(a1)
        prev1 = s1
        out[0].append(s1)
        out[1].append(lif2.step(a2))
    return [np.array(o) for o in out]


def windowed(xs: np.ndarray, reset_synapses: bool, verify: bool):
    steps = T + D
    stream = np.concatenate([np.concatenate([x, np.zeros((D, *x.shape[1:]), bool)]) for x in xs])
    src, conv, lif1, dense, lif2, sinks = build(to_whct(stream), WINDOWS * steps)
    per_window, set_seconds, zero_ok = [], [], []
    for w in range(WINDOWS):
        t0 = time.time()
        if w > 0:
            ts = time.time()
            for proc in (lif1, lif2):
                proc.u.set(np.zeros(proc.u.shape, np.int32))
                proc.v.set(np.zeros(proc.v.shape, np.int32))
            if reset_synapses:
                conv.a_buf.set(np.zeros(conv.a_buf.shape, np.int32))
                dense.a_buff.set(np.zeros(dense.a_buff.shape, np.int32))
            set_seconds.append(time.time() - ts)
        if verify and w > 0:
            state = [lif1.u.get(), lif1.v.get(), lif2.u.get(), lif2.v.get(), conv.a_buf.get(),
                     dense.a_buff.get()]
            zero_ok.append(all(not np.any(s) for s in state))
        src.run(condition=RunSteps(num_steps=steps), run_cfg=CFG)
        per_window.append(time.time() - t0)
    got = read(sinks)
    src.stop()
    return [[g[w * steps:(w + 1) * steps] for g in got] for w in range(WINDOWS)], per_window, set_seconds, zero_ok


def main() -> None:
    xs = rng.random((WINDOWS, T, 2, 16, 16)) < 0.3
    pad = lambda x: np.concatenate([x, np.zeros((D, *x.shape[1:]), bool)])  # noqa: E731
    fresh, fresh_sec = [], []
    for x in xs:
        src, *_, sinks = build(to_whct(pad(x)), T + D)
        t0 = time.time()
        src.run(condition=RunSteps(num_steps=T + D), run_cfg=CFG)
        fresh_sec.append(time.time() - t0)
        fresh.append(read(sinks))
        src.stop()
    numpy_ref = [numpy_window(pad(x)) for x in xs]
    for reset_synapses in (True, False):
        wins, per_window, set_sec, zero_ok = windowed(xs, reset_synapses, verify=reset_synapses)
        same_fresh = [[bool(np.array_equal(a, b)) for a, b in zip(wins[w], fresh[w])] for w in range(WINDOWS)]
        same_np = [[bool(np.array_equal(a, b)) for a, b in zip(wins[w], numpy_ref[w])] for w in range(WINDOWS)]
        print(f"reset synapse buffers={reset_synapses}: state zero at window start {zero_ok}; "
              f"window==fresh run {same_fresh}; window==numpy {same_np}")
        print(f"  seconds per window (run {T + D} steps + Var.set): {[round(s, 3) for s in per_window]}; "
              f"Var.set total per window: {[round(s, 3) for s in set_sec]}")
        print("  spikes per window (lif1, lif2):", [[int(a.sum()) for a in wv] for wv in wins],
              "| lif1 spikes on last padding step:", [int(wv[0][-1].sum()) for wv in wins])
    print(f"fresh network per window (compile + run): {[round(s, 2) for s in fresh_sec]} s")


if __name__ == "__main__":
    main()
