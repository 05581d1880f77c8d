"""Neuron populations of the reference simulator: state, one step, threshold and reset.

Float neurons (docs/design.md §3.3), per step t with input current x_t, a = dt/τ:

- ``LIF``:  v = β·v + g·x (+ a·v_leak when v_leak ≠ 0), β, g from ``metadata["snnc"]`` when present
  (the model's float32 values, same op order: ``beta * v + x`` when g == 1), else β = 1 − a, g = a·r.
- ``IF``:   v = v + r·x  (v + x when r == 1).
- ``LI``:   v = β·v + a·v_leak + g·x; no spikes, its output is v.
- ``CubaLIF`` (snnTorch ``Synaptic`` order): i = α·i + a_s·w_in·x (α = 1 − a_s, a_s = dt/τ_syn), then
  v = β·v + a_m·v_leak + a_m·r·i (β = 1 − a_m, a_m = dt/τ_mem).
- spike s = v ≥ θ (threshold ">=") or v > θ (">"); reset "zero": v = v_reset where s;
  "subtract": v = v − θ where s; "subtract_after_decay": v_t = β·v_{t−1} + g·x_t − θ·s_{t−1}.
- per node (``metadata["snnc"]``, written by ``--convention``): ``threshold``, ``reset``, and ``fire``
  ("before_integrate": the spike emitted at t is s_{t−1}); CubaLIF exact ``alpha``/``syn_gain``/``beta``/``gain``.

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
from snnc.compiler.timestep import check_step, step_fraction
from snnc.errors import SnncError

SPIKING_KINDS = ("LIF", "IF", "CubaLIF", "LoihiLIF")
NEURON_KINDS = SPIKING_KINDS + ("LI",)


def _param(a, dtype: torch.dtype) -> torch.Tensor:
    """A per-neuron parameter as a tensor; a 0-d tensor when all entries are equal."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.size and np.all(arr == arr.flat[0]):
        arr = np.asarray(arr.flat[0])
    return torch.as_tensor(arr, dtype=dtype)


def _check_step(name: str, a: np.ndarray, dt: float, what: str) -> None:
    """dt/τ must lie in (0, 1] (the shared rule of :mod:`snnc.compiler.timestep`)."""
    check_step(name, a, dt, what, hint="give it with --dt / run(dt=...)")


RESETS = ("zero", "subtract", "subtract_after_decay")
FIRE_ORDERS = ("after_integrate", "before_integrate")


def node_semantics(node: nir.NIRNode, threshold: str, reset: str, name: str = "?") -> tuple[str, str]:
    """(threshold, reset) of one neuron: the graph's, unless ``node.metadata["snnc"]`` overrides them
    (per-node ``"threshold"`` / ``"reset"``, written by :mod:`snnc.frontends.conventions`).

    ``"subtract_after_decay"`` (snnTorch ``reset_delay=True``): v_t = β·v_{t−1} + x_t − θ·s_{t−1}, where
    ``"subtract"`` is v_t = β·(v_{t−1} − θ·s_{t−1}) + x_t."""
    meta = (node.metadata or {}).get("snnc") or {}
    threshold, reset = meta.get("threshold", threshold), meta.get("reset", reset)
    if threshold not in (">", ">=") or reset not in RESETS:
        raise SnncError(f"node {name!r}: unknown neuron semantics threshold={threshold!r} reset={reset!r} "
                        f"(threshold '>' or '>=', reset one of {', '.join(RESETS)})")
    return threshold, reset


class FloatNeuron:
    """LIF / IF / LI / CubaLIF in float (see the module docstring)."""

    def __init__(self, node: nir.NIRNode, dt: float, threshold: str, reset: str, dtype: torch.dtype,
                 name: str = "?") -> None:
        self.kind = node_kind(node)
        threshold, reset = node_semantics(node, threshold, reset, name)
        self.threshold, self.reset, self.dtype = threshold, reset, dtype
        self.leak = None
        self.gain: torch.Tensor | None = None
        if self.kind in ("LIF", "LI"):
            meta = (node.metadata or {}).get("snnc") or {}
            a = step_fraction(dt, node.tau)
            if "beta" not in meta:
                _check_step(name, a, dt, "tau")
            if "beta" in meta and "gain" in meta:
                self.beta = torch.tensor(np.float32(meta["beta"]), dtype=dtype)
                gain = torch.tensor(np.float32(meta["gain"]), dtype=dtype)
            else:
                self.beta = _param(1.0 - a, dtype)
                gain = _param(a * np.asarray(node.r, np.float64), dtype)
            self.gain = None if gain.dim() == 0 and float(gain) == 1.0 else gain
            if np.any(np.asarray(node.v_leak) != 0):
                self.leak = _param(a * np.asarray(node.v_leak, np.float64), dtype)
        elif self.kind == "IF":
            self.beta = None
            gain = _param(node.r, dtype)
            self.gain = None if gain.dim() == 0 and float(gain) == 1.0 else gain
        elif self.kind == "CubaLIF":
            a_s = step_fraction(dt, node.tau_syn)
            a_m = step_fraction(dt, node.tau_mem)
            _check_step(name, a_s, dt, "tau_syn")
            _check_step(name, a_m, dt, "tau_mem")
            self.alpha = _param(1.0 - a_s, dtype)
            self.syn_gain = _param(a_s * np.asarray(node.w_in, np.float64), dtype)
            self.beta = _param(1.0 - a_m, dtype)
            gain = _param(a_m * np.asarray(node.r, np.float64), dtype)
            cuba = (node.metadata or {}).get("snnc") or {}
            if all(k in cuba for k in ("alpha", "syn_gain", "beta", "gain")):  # exact float32 factors (a convention)
                self.alpha, self.syn_gain, self.beta, gain = (
                    torch.tensor(np.float32(cuba[k]), dtype=dtype) for k in ("alpha", "syn_gain", "beta", "gain"))
            self.gain = None if gain.dim() == 0 and float(gain) == 1.0 else gain
            if np.any(np.asarray(node.v_leak) != 0):
                self.leak = _param(a_m * np.asarray(node.v_leak, np.float64), dtype)
        else:
            raise ValueError(f"not a float neuron: {self.kind}")
        self.spiking = self.kind != "LI"
        if self.spiking:
            self.v_th = _param(node.v_threshold, dtype)
            self.v_reset = _param(node.v_reset, dtype)
        self.v: torch.Tensor | None = None
        self.i: torch.Tensor | None = None
        self.fired: torch.Tensor | None = None  # reset "subtract_after_decay": the spikes of step t − 1
        # fire "before_integrate" (Spyx): the spike emitted at t is the one of v_{t−1} (none at t = 0)
        self.fire = str(((node.metadata or {}).get("snnc") or {}).get("fire", "after_integrate"))
        if self.fire not in FIRE_ORDERS:
            raise SnncError(f"node {name!r}: unknown fire order {self.fire!r} (one of {', '.join(FIRE_ORDERS)})")
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
