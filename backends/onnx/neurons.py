r"""Neuron populations at one step, as ONNX ops; the membrane state is an explicit input/output.

Float (docs/design.md §3.3), float32, in this order, with β, g, leak (and CubaLIF's α, g_s) those of
:func:`snnc.compiler.neuron_params.neuron_params` (the one derivation; metadata float32 values first):

.. math::

    v_t = (\beta v'_{t-1} + g I_t) + leak \quad(\text{LIF, LI; } g = 1: \beta v' + I;\ leak \text{ only when } v_{leak} \ne 0)

    v_t = r I_t + v'_{t-1} \quad(\text{IF}), \qquad i_t = \alpha i_{t-1} + g_s I_t,\ v_t = \beta v'_{t-1} + g\, i_t \quad(\text{CubaLIF}), \qquad s_t = [v_t \ge \theta] \text{ or } [v_t > \theta],
    \qquad v'_t = s_t\ ?\ v_{reset} : v_t \ (\text{zero}) \text{ or } v_t - \theta \ (\text{subtract})

Fixed point (``LoihiLIF``, Lava 0.10.0 ``fixed_pt``; exact in float64 since every value is an integer
below 2^53): see :func:`loihi_lif`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import nir

from snnc.backends.onnx.builder import OnnxBuilder, safe
from snnc.compiler.neuron_params import neuron_params

F32 = np.float32
F64 = np.float64


@dataclass
class State:
    """One recurrent tensor of the step model: ``name`` (input) -> ``name + '__next'`` (output)."""

    name: str
    shape: tuple[int, ...]
    dtype: type
    kind: str  # "v", "u" or "buffer"
    node: str

    @property
    def next(self) -> str:
        return f"{self.name}__next"


@dataclass
class NeuronOut:
    spikes: str | None  # float32 0/1 value name (None for LI)
    voltage: str  # membrane after the reset (the CPU simulator's and Lava's ``v``): float32, float64 fixed point


def _threshold_op(b: OnnxBuilder, v: str, th: str, rule: str) -> str:
    return b.op("GreaterOrEqual" if rule == ">=" else "Greater", [v, th])


def _finish(b: OnnxBuilder, name: str, v: str, s_bool: str, th: str, v_reset: str, reset: str,
            state: State) -> NeuronOut:
    if reset == "subtract":
        after = b.op("Where", [s_bool, b.op("Sub", [v, th]), v])
    else:
        after = b.op("Where", [s_bool, v_reset, v])
    b.identity(after, state.next)
    spikes = b.op("Cast", [s_bool], hint=f"{name}_spikes", to=1)  # FLOAT
    return NeuronOut(spikes, after)


def _scaled(b: OnnxBuilder, x: str, factor: np.ndarray, hint: str) -> str:
    """factor · x, skipping a multiply by a uniform 1 (as the CPU simulator)."""
    if factor.ndim == 0 and factor == 1:
        return x
    return b.op("Mul", [b.const(factor, F32, hint), x])


def lif(b: OnnxBuilder, name: str, node: nir.NIRNode, x: str, state: State, rule: str, reset: str,
        dt: float, syn_state: State | None = None) -> NeuronOut:
    """A float LIF, IF, LI or CubaLIF population (formulas in the module docstring).

    CubaLIF first updates its synaptic current i = α i + g_s x and integrates i; LI does not spike (its
    ``spikes`` output is None, ``voltage`` its v)."""
    shape = state.shape
    full = lambda a: np.broadcast_to(np.asarray(a, F32), shape)  # noqa: E731
    v_prev = state.name
    p = neuron_params(node, dt, name)
    if isinstance(node, nir.CubaLIF):
        decayed_i = b.op("Mul", [b.const(p.alpha.astype(F32), F32, f"{name}_alpha"), syn_state.name])
        i_new = b.op("Add", [decayed_i, b.op("Mul", [b.const(p.syn_gain.astype(F32), F32, f"{name}_win"), x])],
                     hint=f"{name}_i")
        b.identity(i_new, syn_state.next)
        x = i_new
    if isinstance(node, nir.IF):
        v = b.op("Add", [_scaled(b, x, p.gain.astype(F32), f"{name}_r"), v_prev], hint=f"{name}_v")
    else:
        decayed = b.op("Mul", [b.const(p.beta.astype(F32), F32, f"{name}_beta"), v_prev])
        v = b.op("Add", [decayed, _scaled(b, x, p.gain.astype(F32), f"{name}_gain")], hint=f"{name}_v")
        if p.leak is not None:
            v = b.op("Add", [v, b.const(p.leak.astype(F32), F32, f"{name}_leak")])
    if isinstance(node, nir.LI):
        b.identity(v, state.next)
        return NeuronOut(None, v)
    th = b.const(full(node.v_threshold), F32, f"{name}_th")
    v_reset = np.zeros(shape, F32) if getattr(node, "v_reset", None) is None else full(node.v_reset)
    s = _threshold_op(b, v, th, rule)
    return _finish(b, name, v, s, th, b.const(v_reset, F32, f"{name}_vreset"), reset, state)


def _trunc_shift12(b: OnnxBuilder, p: str) -> str:
    """sign(p) · (|p| >> 12) in float64 (exact for |p| < 2^53)."""
    q = b.op("Floor", [b.op("Div", [b.op("Abs", [p]), b.const(4096.0, F64)])])
    return b.op("Mul", [b.op("Sign", [p]), q])


def _wrap24(b: OnnxBuilder, u: str) -> str:
    """Lava's 24-bit wrap: u − 2^24 where u > 2^23, u + 2^24 where u ≤ −2^23."""
    two24 = b.const(2.0**24, F64)
    up = b.op("Where", [b.op("Greater", [u, b.const(2.0**23, F64)]), b.op("Sub", [u, two24]), u])
    return b.op("Where", [b.op("LessOrEqual", [up, b.const(-(2.0**23), F64)]), b.op("Add", [up, two24]), up])


def _wrap32(b: OnnxBuilder, x: str) -> str:
    """Two's-complement int32 wrap (``fixed_point.wrap_int32``): x − 2^32·floor((x + 2^31) / 2^32)."""
    q = b.op("Floor", [b.op("Div", [b.op("Add", [x, b.const(2.0**31, F64)]), b.const(2.0**32, F64)])])
    return b.op("Sub", [x, b.op("Mul", [q, b.const(2.0**32, F64)])])


def loihi_lif(b: OnnxBuilder, name: str, node, a_in: str, u_state: State, v_state: State) -> NeuronOut:
    r"""Lava 0.10.0's fixed-point LIF (docs/design.md §3.5), float64-exact:

    u ← wrap24(int32(sign(p)(|p| >> 12) + int32(round(a_in)·2^6))), p = u (4096 − du − 1);
    v ← clip(int32(sign(q)(|q| >> 12) + u + (bias_mant << bias_exp)), ±(2^23 − 1)), q = v (4096 − dv);
    s = v > vth·2^6; v ← 0 where s.  ``a_in`` is the (integer, float64) synaptic input.
    """
    shape = v_state.shape
    mant, exp = np.asarray(node.bias_mant, np.int64), np.asarray(node.bias_exp, np.int64)
    bias = np.where(exp >= 0, mant << np.clip(exp, 0, None), mant >> np.clip(-exp, 0, None))
    bias = np.broadcast_to(bias.astype(F64), shape)
    u = _trunc_shift12(b, b.op("Mul", [u_state.name, b.const(4096.0 - (node.du + 1), F64)]))
    a_int = b.op("Round", [a_in])  # Round half to even, as torch.round
    u = _wrap24(b, _wrap32(b, b.op("Add", [u, _wrap32(b, b.op("Mul", [a_int, b.const(64.0, F64)]))])))
    b.identity(u, u_state.next)
    v = _trunc_shift12(b, b.op("Mul", [v_state.name, b.const(4096.0 - node.dv, F64)]))
    v = _wrap32(b, b.op("Add", [b.op("Add", [v, u]), b.const(bias, F64, f"{safe(name)}_bias")]))
    lim = 2.0**23 - 1
    v = b.op("Clip", [v, b.const(-lim, F64), b.const(lim, F64)], hint=f"{name}_v")
    th = b.const(float(node.vth) * 64.0, F64)
    s = b.op("Greater", [v, th])
    return _finish(b, name, v, s, th, b.const(0.0, F64), "zero", v_state)
