"""PyTorch/NIR (C, H, W) ↔ Lava (X = W, Y = H, C) layouts (pure NumPy).

Lava's ``Conv`` takes ports of shape (X, Y, C) = (W, H, C), weights (C_out, kX, kY, C_in) and computes
a *true* convolution (``scipy.signal.convolve2d``), with stride/padding/dilation given in (X, Y)
order. A PyTorch/NIR cross-correlation kernel (C_out, C_in, kH, kW) therefore maps to
``w[:, :, ::-1, ::-1].transpose(0, 3, 2, 1)`` (flip both spatial axes, then swap to (kW, kH)), and
every (H, W) pair is reversed. Feeding a (W, H, C) map into a Dense that expects NIR's CHW flatten
order takes ``transpose([2, 1, 0])`` then ``flatten`` (as lava-dl netx does).
"""

from __future__ import annotations

import numpy as np


def pair(v) -> tuple[int, int]:
    """An int or a pair as an (a, b) tuple of ints."""
    a = np.broadcast_to(np.asarray(v, np.int64).reshape(-1), (2,))
    return int(a[0]), int(a[1])


def chw_to_lava(shape) -> tuple[int, ...]:
    """(C, H, W) -> (W, H, C); vectors (F,) stay (F,)."""
    shape = tuple(int(s) for s in shape)
    return shape[::-1] if len(shape) == 3 else shape


def neuron_array_to_lava(a, shape_chw) -> np.ndarray:
    """A per-neuron array broadcast to (C, H, W) / (F,) and laid out as Lava's (W, H, C)."""
    a = np.broadcast_to(np.asarray(a), tuple(shape_chw))
    return np.ascontiguousarray(a.transpose(2, 1, 0) if a.ndim == 3 else a)


def frames_to_lava(x: np.ndarray) -> np.ndarray:
    """[T, *shape] frames -> Lava RingBuffer data [*lava_shape, T] ((C,H,W) -> (W,H,C))."""
    x = np.asarray(x)
    if x.ndim == 4:
        return np.ascontiguousarray(x.transpose(3, 2, 1, 0))
    return np.ascontiguousarray(np.moveaxis(x, 0, -1))


def lava_conv_params(weight: np.ndarray, input_chw, stride, padding, dilation, groups: int) -> dict:
    """Lava ``Conv`` keyword arguments for a PyTorch/NIR Conv2d (no bias: it lives in the neuron)."""
    w = np.asarray(weight)
    c, h, wd = (int(s) for s in input_chw)
    return {
        "weight": np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(0, 3, 2, 1)),
        "input_shape": (wd, h, c),
        "stride": pair(stride)[::-1],
        "padding": pair(padding)[::-1],
        "dilation": pair(dilation)[::-1],
        "groups": int(groups),
    }


def conv_output_chw(input_chw, weight_shape, stride, padding, dilation) -> tuple[int, int, int]:
    """Output (C_out, H', W') of a Conv2d (PyTorch formula)."""
    _, h, w = (int(s) for s in input_chw)
    kh, kw = int(weight_shape[2]), int(weight_shape[3])
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    return (int(weight_shape[0]), (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
            (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
