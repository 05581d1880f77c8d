"""PROTOTYPE: write a NetX HDF5 by hand (h5py, integer numpy weights), load it with lava-dl 0.6.0's own
netx.hdf5.Network on Loihi2SimCfg(select_tag='fixed_pt'), feed spikes from a RingBuffer, record every
layer with a sink RingBuffer, and compare with a NumPy re-run of Lava's fixed-point arithmetic
(lava_fixed_ref.py) that keeps the SumPool as a separate op (so the pool->conv fusion is checked too).

Network: input 2x12x12 -> conv1 3x3 p1 (4 ch) LIF -> sumpool 2 -> conv2 3x3 p1 (8 ch) LIF
         -> flatten -> dense 288->10 CUBA-LIF.
NetX has no pool layer (hdf5.py raises NotImplementedError), so sumpool(p) followed by conv(k, pad P,
stride 1) is written as ONE conv: kernel k*p, stride p, pad P*p, W'[o,i,u,v] = W[o,i,u//p,v//p]
(exact when H, W are multiples of p).

Run: cd /work/scratch/loihi2 && OMP_NUM_THREADS=1 venv/bin/python write_netx.py [--seed N] [--reset]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import h5py
import numpy as np

import compat_dl

compat_dl.install()

import lava_fixed_ref as ref  # noqa: E402


# ---------------------------------------------------------------- HDF5 writer (the schema) ------
def _str(group: h5py.Group, key: str, value: str) -> None:
    group.create_dataset(key, (1,), "S10", [value.encode("ascii")])  # same form as slayer export


def _neuron(group: h5py.Group, vth: int, i_decay: int, v_decay: int) -> None:
    n = group.create_group("neuron")
    _str(n, "type", "CUBA")
    n.create_dataset("iDecay", data=i_decay)   # netx: du = iDecay - 1 (Lava adds ds_offset 1)
    n.create_dataset("vDecay", data=v_decay)   # netx: dv = vDecay
    n.create_dataset("vThMant", data=vth)      # netx: vth = vThMant (Lava compares v > vth << 6)
    n.create_dataset("refDelay", data=1)       # not read by netx 0.6.0
    n.create_dataset("gradedSpike", data=False)  # not read by netx 0.6.0 (messageBits is)


def write_input(layer: h5py.Group, chw: tuple) -> None:
    _str(layer, "type", "input")
    layer.create_dataset("shape", data=np.array(chw))  # CHW; no 'neuron' -> no process, no delay


def write_conv(layer, w_oihw, chw_out, stride, pad, neuron, bias=None) -> None:
    _str(layer, "type", "conv")
    layer.create_dataset("shape", data=np.array(chw_out))
    layer.create_dataset("weight", data=w_oihw.astype(np.float32))  # (Cout, Cin, kH, kW), torch order
    layer.create_dataset("stride", data=np.array([stride, stride]))    # (H, W) order
    layer.create_dataset("padding", data=np.array([pad, pad]))
    layer.create_dataset("dilation", data=np.array([1, 1]))
    layer.create_dataset("groups", data=1)
    layer.create_dataset("inChannels", data=w_oihw.shape[1])   # informative (slayer writes them)
    layer.create_dataset("outChannels", data=w_oihw.shape[0])
    layer.create_dataset("kernelSize", data=np.array(w_oihw.shape[2:]))
    if bias is not None:
        layer.create_dataset("bias", data=bias)  # per channel -> bias_mant, bias_exp 6
    _neuron(layer, **neuron)


def write_flatten(layer, n: int) -> None:
    _str(layer, "type", "flatten")
    layer.create_dataset("shape", data=np.array([n]))


def write_dense(layer, w_oi, neuron, bias=None) -> None:
    _str(layer, "type", "dense")
    layer.create_dataset("shape", data=np.array([w_oi.shape[0]]))
    layer.create_dataset("weight", data=w_oi.astype(np.float32))  # (out, in); in = CHW-flattened
    layer.create_dataset("inFeatures", data=w_oi.shape[1])
    layer.create_dataset("outFeatures", data=w_oi.shape[0])
    if bias is not None:
        layer.create_dataset("bias", data=bias)
    _neuron(layer, **neuron)


def fuse_sumpool_into_conv(w: np.ndarray, p: int) -> np.ndarray:
    """sumpool(p) then conv(w, stride 1) == conv(w', stride p), w'[.., u, v] = w[.., u//p, v//p]."""
    return np.repeat(np.repeat(w, p, axis=2), p, axis=3)


def fuse_sumpool_into_dense(w: np.ndarray, chw: tuple, p: int) -> np.ndarray:
    """sumpool(p) -> flatten (CHW) -> dense(w) == dense(w') on the unpooled CHW-flattened input,
    w'[o, c, h, x] = w[o, c, h//p, x//p] (exact when H, W are multiples of p)."""
    c, h, wd = chw
    w4 = w.reshape(w.shape[0], c, h // p, wd // p)
    return np.repeat(np.repeat(w4, p, axis=2), p, axis=3).reshape(w.shape[0], -1)


def check_fusions(seed: int = 0) -> None:
    """NumPy identities behind the two fusions (integer arithmetic, so exact)."""
    rng = np.random.default_rng(seed)
    x = (rng.random((4, 8, 8)) < 0.4).astype(np.int64)
    w = rng.integers(-5, 6, size=(6, 4, 3, 3))
    a = ref.conv2d(ref.sumpool2d(x, 2), w, 1, 1)
    b = ref.conv2d(x, fuse_sumpool_into_conv(w, 2), 2, 2)
    wd = rng.integers(-5, 6, size=(7, 4 * 4 * 4))
    c = wd @ ref.sumpool2d(x, 2).reshape(-1)
    d = fuse_sumpool_into_dense(wd, (4, 8, 8), 2) @ x.reshape(-1)
    print("sumpool->conv fused exact:", np.array_equal(a, b), "| sumpool->flatten->dense fused exact:",
          np.array_equal(c, d))


# ---------------------------------------------------------------- model ---------------------------
def make_model(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return dict(
        w1=rng.integers(-6, 7, size=(4, 2, 3, 3)), b1=np.array([0, 1, -1, 2]),
        n1=dict(vth=12, i_decay=4096, v_decay=1229),
        w2=rng.integers(-5, 6, size=(8, 4, 3, 3)), b2=None,
        n2=dict(vth=20, i_decay=4096, v_decay=2048),
        w3=rng.integers(-9, 10, size=(10, 8 * 6 * 6)),  # odd, mixed sign: tests optimize_weight_bits
        b3=rng.integers(-2, 3, size=10),
        n3=dict(vth=15, i_decay=1024, v_decay=512),   # current memory (du = 1023) on the output
    )


def write_model(path: str, m: dict) -> None:
    with h5py.File(path, "w") as f:
        lay = f.create_group("layer")
        write_input(lay.create_group("0"), (2, 12, 12))
        write_conv(lay.create_group("1"), m["w1"], (4, 12, 12), 1, 1, m["n1"], m["b1"])
        write_conv(lay.create_group("2"), fuse_sumpool_into_conv(m["w2"], 2), (8, 6, 6), 2, 2,
                   m["n2"], m["b2"])
        write_flatten(lay.create_group("3"), 288)
        write_dense(lay.create_group("4"), m["w3"], m["n3"], m["b3"])


def reference(m: dict, x: np.ndarray) -> list[np.ndarray]:
    """x: (T, 2, 12, 12) spikes -> per-layer spikes (T, ...) with Lava's one-step-per-synapse delay."""
    lifs = [ref.LifFixed((4, 12, 12), du=m["n1"]["i_decay"] - 1, dv=m["n1"]["v_decay"],
                         vth=m["n1"]["vth"], bias_mant=m["b1"][:, None, None]),
            ref.LifFixed((8, 6, 6), du=m["n2"]["i_decay"] - 1, dv=m["n2"]["v_decay"], vth=m["n2"]["vth"]),
            ref.LifFixed((10,), du=m["n3"]["i_decay"] - 1, dv=m["n3"]["v_decay"], vth=m["n3"]["vth"],
                         bias_mant=m["b3"])]
    syn = [lambda s: ref.conv_out_wrap(ref.conv2d(s, m["w1"], 1, 1)),
           lambda s: ref.conv_out_wrap(ref.conv2d(ref.sumpool2d(s, 2), m["w2"], 1, 1)),  # unfused
           lambda s: m["w3"] @ s.reshape(-1).astype(np.int64)]                            # CHW flatten
    prev_in = [np.zeros_like(x[0])] + [None] * 2   # what each synapse saw on the previous step
    prev_in[1] = np.zeros((4, 12, 12), bool)
    prev_in[2] = np.zeros((8, 6, 6), bool)
    out = [[], [], []]
    for t in range(x.shape[0]):
        layer_in = x[t]
        for k in range(3):
            a = syn[k](prev_in[k]) if t > 0 else np.zeros(lifs[k].shape, np.int64)
            prev_in[k] = layer_in
            s = lifs[k].step(a)
            out[k].append(s)
            layer_in = s
    return [np.array(o) for o in out]


def run_netx(path: str, x: np.ndarray, reset_interval=None, reset_offset=0) -> tuple[list, float]:
    from lava.lib.dl import netx
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    t_steps = x.shape[0]
    net = netx.hdf5.Network(net_config=path, reset_interval=reset_interval, reset_offset=reset_offset)
    src = Source(data=x.transpose(3, 2, 1, 0).astype(np.int32))   # (W, H, C, T)
    src.s_out.connect(net.inp)
    sinks = []
    for layer in net.layers:
        sink = Sink(shape=layer.out.shape, buffer=t_steps)
        layer.out.connect(sink.a_in)
        sinks.append(sink)
    t0 = time.time()
    net.run(condition=RunSteps(num_steps=t_steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    got = [s.data.get() for s in sinks]
    net.stop()
    seconds = time.time() - t0
    outs = []
    for g in got:  # (W, H, C, T) or (N, T) -> (T, C, H, W) / (T, N)
        g = np.moveaxis(g, -1, 0)
        outs.append((g.transpose(0, 3, 2, 1) if g.ndim == 4 else g).astype(bool))
    print("netx table:\n" + str(net))
    print("processes:", sorted({type(p).__name__ for layer in net.layers
                                for p in (layer.synapse, layer.neuron)}))
    return outs, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--check-fusions", action="store_true")
    args = ap.parse_args()
    if args.check_fusions:
        return check_fusions(args.seed)
    m = make_model(args.seed)
    rng = np.random.default_rng(1000 + args.seed)
    depth = 3
    x = np.zeros((args.steps + depth, 2, 12, 12), bool)
    x[:args.steps] = rng.random((args.steps, 2, 12, 12)) < 0.3   # then D zero steps
    path = os.path.join(tempfile.mkdtemp(), "net.h5")
    write_model(path, m)
    want = reference(m, x)
    got, seconds = run_netx(path, x)
    for k, (g, w) in enumerate(zip(got, want)):
        first = [int(np.argmax(a.reshape(len(a), -1).any(1))) if a.any() else None for a in (g, w)]
        print(f"layer {k}: shape {g.shape[1:]} spikes netx={int(g.sum())} ref={int(w.sum())} "
              f"identical={np.array_equal(g, w)} first spike step netx/ref={first}")
    print(f"netx run+get {seconds:.2f} s for {x.shape[0]} steps")


if __name__ == "__main__":
    main()
