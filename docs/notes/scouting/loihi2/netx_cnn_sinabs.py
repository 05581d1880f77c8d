"""The topology and weights of /work/shared/nir-reference/02_cnn/cnn_sinabs.nir through NetX.

cnn_sinabs: Conv(2->16, 5x5, s2, p1) IF, Conv(16->16, 3x3, p1) IF, SumPool2, Conv(16->8, 3x3, p1) IF, SumPool2,
Flatten, Affine(128->256) IF, Affine(256->10) IF; input 2x34x34; biases are 0; IF r = 1, v_th = 1.
NetX has no pool layer, so each SumPool (on spikes) is fused into the FOLLOWING synapse:
  pool -> conv5   => conv 6x6 stride 2 pad 2        (write_netx.fuse_sumpool_into_conv)
  pool -> flatten -> affine9 => dense 256 x 512      (write_netx.fuse_sumpool_into_dense)
Quantisation here is only a plain fixed scale (w_int = round(64 w), vThMant = 64, IF = iDecay 4096,
vDecay 0), NOT snnc's quantizer: the point is the schema/fusion path, compared with the NumPy re-run of
Lava's arithmetic on the UNFUSED graph (pools kept as ops). Not a claim about Sinabs' own spikes.

Run: cd /work/scratch/loihi2 && OMP_NUM_THREADS=1 venv/bin/python netx_cnn_sinabs.py
"""
from __future__ import annotations

import os
import tempfile

import h5py
import nir
import numpy as np

import write_netx as wn
import lava_fixed_ref as ref

S, T, D = 64, 12, 5
IF = dict(vth=S, i_decay=4096, v_decay=0)


def main() -> None:
    g = nir.read("/work/shared/nir-reference/02_cnn/cnn_sinabs.nir")
    w = {k: np.round(S * np.asarray(g.nodes[k].weight, np.float64)).astype(np.int64)
         for k in ("0", "2", "5", "9", "11")}
    path = os.path.join(tempfile.mkdtemp(), "cnn_sinabs_netx.h5")
    with h5py.File(path, "w") as f:
        lay = f.create_group("layer")
        wn.write_input(lay.create_group("0"), (2, 34, 34))
        wn.write_conv(lay.create_group("1"), w["0"], (16, 16, 16), 2, 1, IF)
        wn.write_conv(lay.create_group("2"), w["2"], (16, 16, 16), 1, 1, IF)
        wn.write_conv(lay.create_group("3"), wn.fuse_sumpool_into_conv(w["5"], 2), (8, 8, 8), 2, 2, IF)
        wn.write_flatten(lay.create_group("4"), 512)
        wn.write_dense(lay.create_group("5"), wn.fuse_sumpool_into_dense(w["9"], (8, 8, 8), 2), IF)
        wn.write_dense(lay.create_group("6"), w["11"], IF)
    rng = np.random.default_rng(11)
    x = np.zeros((T + D, 2, 34, 34), bool)
    x[:T] = rng.random((T, 2, 34, 34)) < 0.15
    # NumPy reference of the UNFUSED graph, one step per synapse
    shapes = [(16, 16, 16), (16, 16, 16), (8, 8, 8), (256,), (10,)]
    syn = [lambda s: ref.conv_out_wrap(ref.conv2d(s, w["0"], 2, 1)),
           lambda s: ref.conv_out_wrap(ref.conv2d(s, w["2"], 1, 1)),
           lambda s: ref.conv_out_wrap(ref.conv2d(ref.sumpool2d(s, 2), w["5"], 1, 1)),
           lambda s: w["9"] @ ref.sumpool2d(s, 2).reshape(-1),
           lambda s: w["11"] @ s.astype(np.int64)]
    lifs = [ref.LifFixed(sh, du=4095, dv=0, vth=S) for sh in shapes]
    prev = [np.zeros((2, 34, 34), bool)] + [np.zeros(sh, bool) for sh in shapes[:-1]]
    want = [[] for _ in shapes]
    for t in range(T + D):
        inp = x[t]
        for k in range(len(shapes)):
            a = syn[k](prev[k])
            prev[k] = inp
            inp = lifs[k].step(a)
            want[k].append(inp)
    got, sec = wn.run_netx(path, x)
    for k, (gk, wk) in enumerate(zip(got, want)):
        wk = np.array(wk)
        print(f"layer {k} {gk.shape[1:]}: spikes netx={int(gk.sum())} ref={int(wk.sum())} "
              f"identical={np.array_equal(gk, wk)}")
    print(f"max |w_int| = {max(int(np.abs(v).max()) for v in w.values())}; run+read {sec:.1f} s")


if __name__ == "__main__":
    main()
