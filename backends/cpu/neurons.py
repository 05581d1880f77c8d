"""Neuron populations of the reference simulator: state, one step, threshold and reset.

Float neurons (docs/design.md §3.3), per step t with input current x_t; β, g, the leak and CubaLIF's
α, g_s are those of :func:`snnc.compiler.neuron_params.neuron_params` (the one derivation, metadata
float32 values first), cast to the simulator's dtype:

- ``LIF``:  v = β·v + g·x (+ leak when v_leak ≠ 0); ``beta * v + x`` when g == 1 (no multiply by 1).
- ``IF``:   v = v + r·x  (v + x when r == 1).
- ``LI``:   v = β·v + g·x + leak; no spikes, its output is v.
- ``CubaLIF`` (snnTorch ``Synaptic`` order): i = α·i + g_s·x, then v = β·v + g·i + leak.
- spike s = v ≥ θ (threshold ">=") or v > θ (">"); reset "zero": v = v_reset where s;
  "subtract": v = v − θ where s; "subtract_after_decay": v_t = β·v_{t−1} + g·x_t − θ·s_{t−1}.
- per node (``metadata["snnc"]``, written by ``--convention``): ``threshold``, ``reset``
  (:func:`~snnc.compiler.neuron_params.node_semantics`) and ``fire``
  (:func:`~snnc.compiler.neuron_params.fire_order`; "before_integrate": the spike emitted at t is s_{t−1}).

``LoihiLIF`` (fixed point), exactly Lava 0.10.0 ``AbstractPyLifModelFixed`` + ``PyLifModelBitAcc``,
executed by :func:`snnc.compiler.fixed_point.lif_step` (the single definition, checked against running
Lava, including its int32 wrap at extreme inputs):

    u = sign(p)·(|p| >> 12), p = u·(4096 − (du + 1));  u = int32(u + int32(a_in << 6));  u wraps once into 24 bits
    v = sign(q)·(|q| >> 12) + u + (bias_mant << bias_exp), q = v·(4096 − dv);  v clipped to ±(2^23 − 1)
    s = v > (vth << 6);  v = 0 where s

The simulator carries integer signals in float64; a_in is rounded to int64 on entry (a no-op for the
integer signals of a quantized graph, where TimeGain already floors).

Recorded voltages are v after the reset (as Lava's ``v`` variable).
"""

from __future__ import annotations

import numpy as np
import nir
import torch

from snnc.compiler.fixed_point import lif_step
from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.ir.kinds import FLOAT_NEURON_KINDS
from snnc.compiler.neuron_params import fire_order, neuron_params, node_semantics, uniform


def _param(a, dtype: torch.dtype) -> torch.Tensor:
    """A per-neuron parameter as a tensor; a 0-d tensor when all entries are equal."""
    return torch.as_tensor(uniform(a), dtype=dtype)


def _tensor(a: np.ndarray | None, dtype: torch.dtype) -> torch.Tensor | None:
    """A float64 value of :func:`neuron_params` as a tensor of ``dtype`` (None stays None)."""
    return None if a is None else torch.as_tensor(a, dtype=dtype)


def _unless_one(gain: torch.Tensor) -> torch.Tensor | None:
    """None for a uniform gain of 1 (no multiply by 1), else the gain."""
    return None if gain.dim() == 0 and float(gain) == 1.0 else gain


class FloatNeuron:
    """LIF / IF / LI / CubaLIF in float (see the module docstring)."""

    def __init__(self, node: nir.NIRNode, dt: float, threshold: str, reset: str, dtype: torch.dtype,
                 name: str = "?") -> None:
        self.kind = node_kind(node)
        threshold, reset = node_semantics(node, threshold, reset, name)
        self.threshold, self.reset, self.dtype = threshold, reset, dtype
        if self.kind not in FLOAT_NEURON_KINDS:
            raise ValueError(f"not a float neuron: {self.kind}")
        p = neuron_params(node, dt, name)
        self.beta = _tensor(p.beta, dtype)
        self.gain = _unless_one(_tensor(p.gain, dtype))
        self.leak = _tensor(p.leak, dtype)
        self.alpha, self.syn_gain = _tensor(p.alpha, dtype), _tensor(p.syn_gain, dtype)
        self.spiking = self.kind != "LI"
        if self.spiking:
            self.v_th = _param(node.v_threshold, dtype)
            self.v_reset = _param(node.v_reset, dtype)
        self.v: torch.Tensor | None = None
        self.i: torch.Tensor | None = None
        self.fired: torch.Tensor | None = None  # reset "subtract_after_decay": the spikes of step t − 1
        # fire "before_integrate" (Spyx): the spike emitted at t is the one of v_{t−1} (none at t = 0)
        self.fire = fire_order(node, name)
        self.pending: torch.Tensor | None = None

    def reset_state(self, shape: tuple[int, ...]) -> None:
        self.v = torch.zeros(shape, dtype=self.dtype)
        self.i = torch.zeros(shape, dtype=self.dtype) if self.kind == "CubaLIF" else None
        self.fired = None
        self.pending = torch.zeros(shape, dtype=torch.bool) if self.fire == "before_integrate" else None

    def step(self, x: torch.Tensor) -> torch.Tensor | None:
        """Advance one step with input x; return the spikes (bool) or None for LI.

        In place on the state; the float operations and their order are exactly those of the
        module docstring (``v.mul_(beta).add_(x)`` is ``beta * v + x``). The simulator runs float LIF / IF / LI
        populations through the fused C++ loop (``csrc/lif_loop.cpp``), which repeats these operations in
        this order; a change here must be made there too (tests/backends/cpu/test_cpu_lif_loop.py compares
        the two bit for bit)."""
        v = self.v
        if self.kind == "CubaLIF":
            self.i = self.alpha * self.i + self.syn_gain * x
            x = self.i
        drive = x if self.gain is None else self.gain * x
        if self.beta is None:
            v = drive + v
        else:
            v.mul_(self.beta)
            v.add_(drive)
        if self.leak is not None:
            v.add_(self.leak)
        if self.fired is not None:  # "subtract_after_decay": v = (β·v + x) − θ·s_{t−1}
            v = torch.where(self.fired, v - self.v_th, v)
        self.v = v
        if not self.spiking:
            return None
        s = torch.ge(v, self.v_th) if self.threshold == ">=" else torch.gt(v, self.v_th)
        if self.reset == "subtract_after_decay":
            self.fired = s
        elif self.reset == "subtract":
            self.v = torch.where(s, v - self.v_th, v)
        elif self.v_reset.dim() == 0:
            v.masked_fill_(s, float(self.v_reset))
        else:
            self.v = torch.where(s, self.v_reset.expand_as(v), v)
        if self.pending is not None:  # fire "before_integrate": emit the previous step's spikes
            s, self.pending = self.pending, s
        return s


class LoihiNeuron:
    """Lava's fixed-point LIF (see the module docstring); state in int64 tensors, one step by
    :func:`snnc.compiler.fixed_point.lif_step`."""

    spiking = True
    kind = "LoihiLIF"

    def __init__(self, node, *_ignored) -> None:
        self.du, self.dv, self.vth = int(node.du), int(node.dv), int(node.vth)
        self.bias_mant = np.asarray(node.bias_mant, np.int64)
        self.bias_exp = np.asarray(node.bias_exp, np.int64)
        self.u: torch.Tensor | None = None
        self.v: torch.Tensor | None = None

    def reset_state(self, shape: tuple[int, ...]) -> None:
        self.u = torch.zeros(shape, dtype=torch.int64)
        self.v = torch.zeros(shape, dtype=torch.int64)

    def step(self, a_in: torch.Tensor) -> torch.Tensor:
        a = torch.round(a_in).to(torch.int64).numpy()
        u, v, s = lif_step(self.u.numpy(), self.v.numpy(), a, self.du, self.dv, self.vth,
                           self.bias_mant, self.bias_exp)
        self.u, self.v = torch.from_numpy(u), torch.from_numpy(v)
        return torch.from_numpy(s)


def make_neuron(node: nir.NIRNode, dt: float, threshold: str, reset: str, dtype: torch.dtype, name: str = "?"):
    """The state machine of a neuron node."""
    if node_kind(node) == "LoihiLIF":
        return LoihiNeuron(node)
    return FloatNeuron(node, dt, threshold, reset, dtype, name)
