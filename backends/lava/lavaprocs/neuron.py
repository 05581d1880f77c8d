r"""snnc's Lava neuron process: Lava's LIF dynamics plus input gain, windows and a record port.

Import only after :func:`snnc.backends.lava.compat.install` (this module imports Lava).

``SnncNeuron`` is Lava's ``LIF`` with three additions the compiled graphs need:

- **input gain** (TimeGain, design.md §3.4–3.5): the incoming current at step t is multiplied by the
  gain of the source step s(t) = max(0, k − depth) (k = step inside the window). Float:
  a ← a·in_gain·G[s], and the neuron bias follows the same factor (NIR TimeGain scales the synapse
  bias too); fixed: a ← (a·gain_mant[s]) >> gain_shift on the integer synaptic sum (the bias, folded
  by ``quantize`` with the mean gain, is not scaled);
- **windows**: a batch of N samples runs as one Lava run of N·(T + pad) steps. The neuron is active
  for T steps of each window, from its ``start`` step on: there u and v are set to 0; outside them it
  stays silent and drops its input (u = v = 0). ``start`` = 0 is the unshifted readout (the ``pad`` steps
  after T flush the synapse buffers: ``pad`` ≥ the longest chain of synapses without a neuron between);
  the pipeline readout (docs/design.md §3.4) has pad = D and start = the layer's depth d_k, so each
  layer runs its T steps when the first input frame reaches it, and the synapse buffers are empty again
  by the window's end. Either way each sample sees exactly a fresh network;
- **record port** ``rec``: per step the spikes (and, if asked, v after the reset) streamed to an
  ``Extractor`` (``Var.get`` costs ~26 µs per element).

The sub-threshold update is Lava's own code: the fixed model calls
``AbstractPyLifModelFixed.scale_bias`` / ``subthr_dynamics`` / ``reset_voltage`` (bit-accurate,
vth << 6, spike v > vth); the float model is ``PyLifModelFloat``'s three lines
(u = u(1 − du) + a; v = v(1 − dv) + u + bias; spike v > vth, or v ≥ vth for graphs with threshold ">=";
v ← 0 on a spike, or v ← v − vth for graphs with reset "subtract": float only).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed


class SnncNeuron(AbstractProcess):
    """A LIF population (Lava parameters) with input gain, windowing and a record port.

    ``gain``: None or an array (T_gain ≥ T, *shape) (float gains, or integer mantissas in fixed point);
    ``window``: (T, pad); ``start``: the first active step of each window; ``depth``: d of
    s(t) = max(0, t − d) (capped at the gain's last step).
    """

    def __init__(self, *, shape: tuple[int, ...], du, dv, vth, bias_mant, bias_exp=0, in_gain: float = 1.0,
                 gain: np.ndarray | None = None, gain_shift: int = 0, depth: int = 0, window: tuple[int, int],
                 start: int = 0, threshold_ge: bool = False, reset_subtract: bool = False, record_voltage: bool = False,
                 name: str | None = None) -> None:
        T, pad = (int(w) for w in window)
        gain_arr = np.ones((1,)) if gain is None else np.broadcast_to(gain, (np.shape(gain)[0],) + tuple(shape))
        if gain is not None and gain_arr.shape[0] < T:
            raise ValueError(f"gain has {gain_arr.shape[0]} steps, the window {T}")
        if not 0 <= int(start) <= pad:
            raise ValueError(f"start {start} is outside 0..pad = {pad}")
        super().__init__(shape=shape, window=(T, pad), first_step=int(start), depth=int(depth), has_gain=gain is not None,
                         gain_shift=int(gain_shift), in_gain=float(in_gain), threshold_ge=bool(threshold_ge),
                         reset_subtract=bool(reset_subtract), record_voltage=bool(record_voltage), name=name)
        n = int(np.prod(shape))
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.rec = OutPort(shape=(2 * n if record_voltage else n,))
        self.u = Var(shape=shape, init=0)
        self.v = Var(shape=shape, init=0)
        self.du = Var(shape=(1,), init=du)
        self.dv = Var(shape=(1,), init=dv)
        self.vth = Var(shape=shape, init=np.broadcast_to(vth, shape).copy())
        self.bias_mant = Var(shape=shape, init=np.broadcast_to(bias_mant, shape).copy())
        self.bias_exp = Var(shape=shape, init=np.broadcast_to(bias_exp, shape).copy())
        self.gain = Var(shape=gain_arr.shape, init=np.ascontiguousarray(gain_arr))


class _Window:
    """Step bookkeeping shared by both models."""

    def _setup(self) -> None:
        p = self.proc_params
        self.T, self.pad = p["window"]
        self.first = p.get("first_step", 0)
        self.depth, self.has_gain, self.gain_shift = p["depth"], p["has_gain"], p["gain_shift"]
        self.in_gain, self.ge, self.record_voltage = p["in_gain"], p["threshold_ge"], p["record_voltage"]
        self.subtract = p.get("reset_subtract", False)

    def _k(self) -> int:
        return (self.time_step - 1) % (self.T + self.pad)

    def _source_step(self, k: int) -> int:
        return min(max(0, k - self.depth), self.gain.shape[0] - 1)

    def _window_step(self, silent_dtype) -> int | None:
        """The step k inside the current window, after resetting u, v at the first active step; None (and
        a silent step emitted) outside the T active steps (the idle ``pad`` steps)."""
        k = self._k()
        if k == self.first:
            self.u[:] = 0
            self.v[:] = 0
        if not self.first <= k < self.first + self.T:
            self._emit(np.zeros(self.v.shape, silent_dtype), self.v)
            return None
        return k

    def _emit(self, s: np.ndarray, v: np.ndarray) -> None:
        self.s_out.send(s)
        rec = np.concatenate([s.ravel(), v.ravel()]) if self.record_voltage else s.ravel()
        self.rec.send(rec)


@implements(proc=SnncNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySnncNeuronFloat(_Window, PyLoihiProcessModel):
    """Float model (Lava ``PyLifModelFloat`` dynamics; see the module docstring)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    rec: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    u: np.ndarray = LavaPyType(np.ndarray, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    du: float = LavaPyType(float, float)
    dv: float = LavaPyType(float, float)
    vth: np.ndarray = LavaPyType(np.ndarray, float)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, float)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, float)
    gain: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._setup()

    def run_spk(self) -> None:
        a = self.a_in.recv()
        k = self._window_step(float)
        if k is None:
            return
        factor = self.in_gain * (self.gain[self._source_step(k)] if self.has_gain else 1.0)
        bias = self.bias_mant * (self.gain[self._source_step(k)] if self.has_gain else 1.0)
        self.u[:] = self.u * (1 - self.du) + a * factor
        self.v[:] = self.v * (1 - self.dv) + self.u + bias
        s = self.v >= self.vth if self.ge else self.v > self.vth
        if self.subtract:  # reset by subtraction (NIR <= 1.0.5 IF, design.md §3.3)
            self.v[s] -= self.vth[s]
        else:
            self.v[s] = 0
        self._emit(s.astype(float), self.v)


@implements(proc=SnncNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncNeuronFixed(_Window, AbstractPyLifModelFixed):
    """Bit-accurate model: Lava's ``AbstractPyLifModelFixed`` update, spike v > vth << 6."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    rec: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    gain: np.ndarray = LavaPyType(np.ndarray, np.int32)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._setup()

    def run_spk(self) -> None:
        a = self.a_in.recv()
        k = self._window_step(np.int32)
        if k is None:
            return
        if self.has_gain:
            a = (a.astype(np.int64) * self.gain[self._source_step(k)]) >> self.gain_shift
            a = a.astype(np.int32)
        self.scale_bias()
        self.subthr_dynamics(activation_in=a)
        s = self.v > (self.vth.astype(np.int64) << self.vth_shift)
        self.reset_voltage(spike_vector=s)
        self._emit(s.astype(np.int32), self.v)

