r"""Bit-exact integer maths of Lava 0.10.0's ``fixed_pt`` models (pure NumPy, no Lava import).

Read from ``lava/proc/lif/models.py`` (``AbstractPyLifModelFixed`` + ``PyLifModelBitAcc``),
``lava/proc/dense/models.py`` (``PyDenseModelBitAcc``), ``lava/utils/weightutils.py`` and
``lava/proc/conv/{models,utils}.py`` (``PyConvModelFixed``), and checked against running Lava by
``tests/compiler/test_fixed_point.py`` and ``tests/backends/lava/``. All state is int64 here; Lava's
int32 intermediate arithmetic is reproduced by :func:`wrap_int32` where it can overflow.

**LIF**, per step, with a_in the int32 sum of the incoming synaptic messages (the LIF port is
declared int16, but a channel carries the *sender's* dtype (int32) and ``recv`` adds it to an int16
zero array, so nothing is cast to 16 bits: measured, a_in = 51000 arrives intact)::

    u  = sign(p)·(|p| >> 12),  p = u·(4096 − (du + 1))           (ds_offset = 1: du = 4095 → no memory)
    u  = int32(u + int32(a_in << 6))
    u  = u − 2^24 if u > 2^23;  u + 2^24 if u ≤ −2^23              (one wrap, not saturation)
    v  = sign(q)·(|q| >> 12) + u + (bias_mant << bias_exp),  q = v·(4096 − dv)   (>> −bias_exp if < 0)
    v  = clip(v, −(2^23 − 1), 2^23 − 1)                            (saturation)
    s  = v > (vth << 6);  v = 0 where s

**Dense** (bit-accurate): on the first step weights are clipped by sign mode (mixed [−256, 255],
excitatory [0, 255], inhibitory [−255, 0]) then truncated: mixed weights lose their LSB
(``(w >> 1) << 1``, floor), so snnc writes even mantissas (lossless). Per step
a = Σ_j W[:, j]·[s_j ≠ 0] (binary messages) or W·s (graded, ``num_message_bits > 0``), then
a <<= weight_exp (>>= −weight_exp, floor).

**Conv** (fixed): int32 weights, *not* clipped; ``weight_exp`` is ignored; the float64 scipy
convolution is cast to int32 and then wrapped (``signed_clamp``: (x + 2^23) mod 2^24 − 2^23; despite
its name it wraps, it does not saturate).

**TimeGain** (snnc's own fixed semantics, design.md §3.5): y = (x·gain_mant[s(t)]) >> gain_shift
(floor), on the integer synaptic output before the neuron (:func:`time_gain_apply`; float twin
:func:`time_gain_float`).
"""

from __future__ import annotations

import numpy as np

DECAY_SHIFT = 12
DECAY_UNITY = 1 << DECAY_SHIFT
ACT_SHIFT = 6  # a_in << 6
VTH_SHIFT = 6  # vth << 6
UV_MAX = 1 << 23  # u, v are 24-bit
DU_MAX = DV_MAX = 4095
VTH_MAX = 131071  # 17-bit unsigned
BIAS_MANT_MIN, BIAS_MANT_MAX = -4096, 4095  # 13-bit signed
BIAS_EXP_DEFAULT = 6  # netx convention: bias_mant in units of a_in
W_MIN, W_MAX = -256, 254  # even 8-bit signed mantissas (mixed-sign Dense drops the LSB)
GAIN_MANT_MAX = 255
GAIN_SHIFT_MAX = 16


def wrap_int32(x) -> np.ndarray:
    """Two's-complement wrap of integers into int32 (NumPy int32 arithmetic overflow)."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def decay(x: np.ndarray, factor: int) -> np.ndarray:
    """sign(x·factor)·(|x·factor| >> 12): Lava's sign-magnitude decay (truncates toward zero)."""
    p = np.asarray(x, np.int64) * int(factor)
    return np.sign(p) * (np.abs(p) >> DECAY_SHIFT)


def effective_bias(bias_mant, bias_exp) -> np.ndarray:
    """bias_mant << bias_exp (>> −bias_exp, floor, when negative), as Lava's ``scale_bias``."""
    m = np.asarray(bias_mant, np.int64)
    e = np.asarray(bias_exp, np.int64)
    return np.where(e >= 0, m << np.maximum(e, 0), m >> np.maximum(-e, 0))


def lif_step(u: np.ndarray, v: np.ndarray, a_in: np.ndarray, du: int, dv: int, vth: int,
             bias_mant, bias_exp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of Lava's bit-accurate LIF (module docstring) -> (u, v after reset, spikes bool).

    Inputs are integer arrays (any int dtype); outputs are int64 arrays of the broadcast shape.
    """
    a = np.asarray(a_in)
    if a.dtype.kind == "f":
        if np.any(a != np.round(a)):
            raise ValueError("lif_step: a_in must be integer-valued")
        a = a.astype(np.int64)
    u = decay(u, DECAY_UNITY - (int(du) + 1))
    u = wrap_int32(u + wrap_int32(a.astype(np.int64) << ACT_SHIFT))
    u = np.where(u > UV_MAX, u - 2 * UV_MAX, u)
    u = np.where(u <= -UV_MAX, u + 2 * UV_MAX, u)
    v = decay(v, DECAY_UNITY - int(dv))
    v = wrap_int32(v + u + effective_bias(bias_mant, bias_exp))
    v = np.clip(v, -UV_MAX + 1, UV_MAX - 1)
    s = v > (int(vth) << VTH_SHIFT)
    v = np.where(s, 0, v)
    return u, v, s


# --- synapses ---------------------------------------------------------------------------------

def dense_effective_weights(w_int: np.ndarray, sign_mode: str | None = None, num_weight_bits: int = 8) -> np.ndarray:
    """The weights Lava's bit-accurate Dense really uses (``clip_weights`` then ``truncate_weights``).

    ``sign_mode``: "mixed", "excitatory", "inhibitory" or None (Lava's ``determine_sign_mode``).
    """
    w = np.asarray(w_int, np.int64)
    if sign_mode is None:
        sign_mode = "excitatory" if w.min() >= 0 else "inhibitory" if w.max() <= 0 else "mixed"
    mixed = sign_mode == "mixed"
    if sign_mode == "inhibitory":
        w = -w
    w = np.clip(w, -256 if mixed else 0, 255)
    shift = 8 - int(num_weight_bits) + int(mixed)
    w = (w >> shift) << shift
    return -w if sign_mode == "inhibitory" else w


def conv_output_clamp(x: np.ndarray) -> np.ndarray:
    """Lava's fixed Conv output: int32 cast, then ``signed_clamp(bits=24)`` = wrap into [−2^23, 2^23)."""
    x = wrap_int32(np.asarray(x, np.int64))
    return ((x + UV_MAX) % (2 * UV_MAX)) - UV_MAX


def time_gain_divisor(gain_shift: int) -> float:
    """2^gain_shift as a float: the exact divisor of :func:`time_gain_apply`."""
    return float(2 ** int(gain_shift))


def time_gain_apply(x, gain_mant_t, gain_shift: int):
    """y = floor(x · gain_mant[s(t)] / 2^gain_shift) = (x · m) >> k: the fixed TimeGain (module docstring).

    The one definition the simulators and the regression counter call (the ONNX exporter writes the same
    Mul, Div, Floor with :func:`time_gain_divisor`). Integers are carried in float64 (NumPy arrays or
    torch tensors, x and m of one kind, broadcasting): the product, the division by a power of two and
    the floor are exact while |x·m| < 2^53. Computed as x · (m / 2^k), the same value: m / 2^k is exact
    (small m), and the product is the exact x·m scaled by 2^-k (no new significant bits), so it rounds to
    nothing. The division thus touches only the small gain array, and the floor works in place."""
    y = x * (gain_mant_t / time_gain_divisor(gain_shift))
    if isinstance(y, np.ndarray):
        return np.floor(y, out=y)
    return np.floor(y) if isinstance(y, (np.generic, float, int)) else y.floor_()


def time_gain_float(x, gain_t, inplace: bool = False):
    """y = gain[s(t)] · x in float: the float twin of :func:`time_gain_apply` (NumPy or torch, broadcasting;
    the ONNX exporter writes it as one Mul). ``inplace``: the product is written into x (same elementwise
    product, no new array; x must have the broadcast shape)."""
    if not inplace:
        return x * gain_t
    return np.multiply(x, gain_t, out=x) if isinstance(x, np.ndarray) else x.mul_(gain_t)


# --- encoders (float -> Lava integers) ---------------------------------------------------------

def weights_to_int(w: np.ndarray, scale: float, clip: bool = False) -> tuple[np.ndarray, int]:
    """(even integer mantissas 2·round(w·s/2), number outside [−256, 254]); clipped only if ``clip``."""
    q = 2.0 * np.round(np.asarray(w, np.float64) * float(scale) / 2.0)
    n = int(np.sum((q > W_MAX) | (q < W_MIN)))
    if clip:
        q = np.clip(q, W_MIN, W_MAX)
    return q.astype(np.int64), n


def max_weight_scale(w: np.ndarray, percentile: float | None = None) -> float:
    """The largest scale s with no weight clipping: s = 254 / |w|max, or 254 / (that percentile of |w|)
    when ``percentile`` is given (weights above it then clip); |w|max is floored at 1e-12 (all-zero
    weights: any scale is exact). The weight limit of the ``quantize`` pass."""
    a = np.abs(np.asarray(w, np.float64))
    ref = float(np.percentile(a, percentile)) if percentile is not None else float(a.max(initial=0.0))
    return W_MAX / max(ref, 1e-12)


def decay_to_int(beta: float) -> int:
    """dv for a voltage decay β: v ← v·(4096 − dv) >> 12, dv = round((1 − β)·4096) in [0, 4095]."""
    return int(np.clip(np.round((1.0 - float(beta)) * DECAY_UNITY), 0, DV_MAX))


def vth_to_int(theta: float, scale: float) -> int:
    """vth = round(θ·s) (effective threshold vth << 6 against u = a_in << 6); must fit 17 bits."""
    vth = int(np.round(float(theta) * float(scale)))
    if not 0 <= vth <= VTH_MAX:
        raise ValueError(f"threshold {theta:g} at scale {scale:g} gives vth {vth}, outside [0, {VTH_MAX}]")
    return vth


def bias_to_mant(b: np.ndarray, scale: float, bias_exp: int = BIAS_EXP_DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """(bias_mant, bias_exp): bias_mant = round(b·s·2^(6 − bias_exp)), so (mant << exp) = 64·s·b."""
    m = np.round(np.asarray(b, np.float64) * float(scale) * 2.0 ** (ACT_SHIFT - bias_exp)).astype(np.int64)
    if np.any((m < BIAS_MANT_MIN) | (m > BIAS_MANT_MAX)):
        raise ValueError(f"bias mantissa {int(np.abs(m).max())} outside 13 bits at scale {scale:g}")
    return m, np.full(m.shape, int(bias_exp), np.int64)


def encode_gain(gain: np.ndarray) -> tuple[np.ndarray, int]:
    """(gain_mant, gain_shift): the largest shift k ≤ 16 with round(|G|max·2^k) ≤ 255."""
    g = np.asarray(gain, np.float64)
    top = float(np.max(np.abs(g))) if g.size else 0.0
    shift = GAIN_SHIFT_MAX if top == 0 else int(np.clip(np.floor(np.log2(GAIN_MANT_MAX / top)), 0, GAIN_SHIFT_MAX))
    while shift > 0 and np.max(np.abs(np.round(g * 2.0 ** shift))) > GAIN_MANT_MAX:
        shift -= 1
    return np.round(g * 2.0 ** shift).astype(np.int64), shift
