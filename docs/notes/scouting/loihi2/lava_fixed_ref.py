"""NumPy re-run of Lava 0.10.0's fixed_pt arithmetic (toolchain notes §4.5; lava/proc/lif/models.py
AbstractPyLifModelFixed, proc/conv/models.py PyConvModelFixed + utils.signed_clamp,
proc/dense/models.py AbstractPyDenseModelBitAcc). Written from the arithmetic, not from netx.

Layout: images are (C, H, W) as in PyTorch; conv weights (C_out, C_in, kH, kW), PyTorch correlation.
Timing (Lava): every synaptic layer delays by one step; layer l at step t integrates its synapse's
output computed from layer l-1's spikes at step t-1 (0 at t = 0). The input itself is not delayed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

U_BITS = 24
MAX_UV = 1 << (U_BITS - 1)


def conv2d(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """PyTorch-style correlation of x (C_in, H, W) with w (C_out, C_in, kH, kW); int64."""
    c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.zeros((c_in, h + 2 * padding, wd + 2 * padding), dtype=np.int64)
    xp[:, padding:padding + h, padding:padding + wd] = x
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((c_out, ho, wo), dtype=np.int64)
    for u in range(kh):
        for v in range(kw):
            patch = xp[:, u:u + stride * ho:stride, v:v + stride * wo:stride]  # (C_in, ho, wo)
            out += np.einsum("oi,ihw->ohw", w[:, :, u, v].astype(np.int64), patch)
    return out


def sumpool2d(x: np.ndarray, p: int) -> np.ndarray:
    """Sum pooling, kernel = stride = p, no padding (floor)."""
    c, h, w = x.shape
    h2, w2 = h // p, w // p
    return x[:, :h2 * p, :w2 * p].reshape(c, h2, p, w2, p).sum(axis=(2, 4))


def conv_out_wrap(a: np.ndarray) -> np.ndarray:
    """Lava's fixed Conv output 'clamp' = wrap into signed 24 bit (utils.signed_clamp is a modulo)."""
    base = 1 << 24
    return (a + base // 2) % base - base // 2


def _decay(x: np.ndarray, d: int) -> np.ndarray:
    p = x.astype(np.int64) * (4096 - d)
    return (np.sign(p) * (np.abs(p) >> 12)).astype(np.int64)


@dataclass
class LifFixed:
    """Lava LIF fixed_pt (PyLifModelBitAcc): du, dv in 0..4095, vth 17 bit, bias_mant, bias_exp."""
    shape: tuple
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray | int = 0
    bias_exp: int = 6

    def __post_init__(self) -> None:
        self.u = np.zeros(self.shape, dtype=np.int64)
        self.v = np.zeros(self.shape, dtype=np.int64)

    def reset(self) -> None:
        self.u[...] = 0
        self.v[...] = 0

    def step(self, a_in: np.ndarray) -> np.ndarray:
        u = _decay(self.u, self.du + 1) + (a_in.astype(np.int64) << 6)     # ds_offset = 1
        u = np.where(u > MAX_UV, u - 2 * MAX_UV, u)                         # wrap (as Lava writes it)
        u = np.where(u <= -MAX_UV, u + 2 * MAX_UV, u)
        bias = np.left_shift(np.asarray(self.bias_mant, dtype=np.int64), self.bias_exp)
        v = _decay(self.v, self.dv) + u + bias                              # dm_offset = 0
        v = np.clip(v, -MAX_UV + 1, MAX_UV - 1)
        s = v > (self.vth << 6)
        v[s] = 0
        self.u, self.v = u, v
        return s
