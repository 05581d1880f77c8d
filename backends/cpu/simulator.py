"""The reference CPU simulator: executes an snnc IR graph on a batch [N, T, *in_shape].

Two schedules with identical results:

- **layer by layer** (feed-forward graphs): each node processes all T steps at once; stateless
  nodes fold T into the batch (required for ASA, which needs the whole window). Chains of stateless
  nodes with a single consumer (conv → BN → pool) run fused over chunks of whole samples, so the
  large pre-pool tensors never exist for the full batch. Neurons step through t in place on views
  z[:, t]; ASA runs on the whole batch, exactly as the model calls it.
- **step by step** (graphs with cycles, e.g. a recurrent Affine around a CubaLIF): every node
  advances one step at a time; a recurrent edge carries its source's value of the previous step.

Several edges into one node are summed in edge order. Timing (docs/design.md §3.4): under
``"lava"`` every delaying node (Affine, Linear, Conv2d, SumPool2d, AvgPool2d) computes f(x_{t−1})
(x_{−1} = 0, so its bias is not delayed), and a TimeGain reads its gain at the source step
max(0, t − d). ``readout="pipeline"`` (Lava timing only, docs/design.md §3.4) runs T + D steps (the input
padded with D zero frames, D = :func:`snnc.compiler.ir.depth.pipeline_depth`); a neuron d_k deep is held
at rest (u = v = 0, silent, its input dropped) outside steps d_k … d_k + T − 1, and the result holds each
layer's T active steps and the output's steps D … T + D − 1 (``readout="unshifted"``: T steps, as before). ``observer(name, frames, n)`` (optional) sees the input frames of every synapse node
(Conv2d, Affine, Linear) as they are processed; the synaptic-operation counter uses it.

Float: float32, the same torch calls and operation order as the snnc PyTorch models, so spikes are
bit-identical to ``model.forward_record`` (tested for every family). Fixed point (``numerics ==
"fixed"`` or LoihiLIF nodes): integer values in float64 (exact below 2^53) through the synapses, Lava's
integer neuron (:mod:`snnc.backends.cpu.neurons`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import nir
import torch

from snnc.backends.cpu import lif_loop, loihi_loop
from snnc.backends.cpu.neurons import make_neuron
from snnc.backends.cpu.gains import _asa, _elementwise_threads, _timegain
from snnc.backends.cpu.ops import FRAME_KINDS
from snnc.backends.cpu.plan import Plan, check_input, pipeline_input
from snnc.backends.result import SimResult
from snnc.compiler.ir.depth import pipeline_extras
from snnc.compiler.ir.kinds import NEURON_KINDS, SYNAPSE_KINDS
from snnc.compiler.window_attention import ATTENTION_KINDS
from snnc.errors import SnncError

DEFAULT_CHUNK_FRAMES = 64  # one sample at T = 60: a conv output of 15.7 MB reuses heap pages (no fresh mmap + page faults)
Observer = Callable[[str, torch.Tensor, int], None]


def _shift(z: torch.Tensor) -> torch.Tensor:
    """z delayed by one step along axis 1 (zeros at t = 0)."""
    out = torch.zeros_like(z)
    out[:, 1:] = z[:, :-1]
    return out


def _chains(plan: Plan, keep: set[str]) -> dict[str, list[str]]:
    """head -> [head, ..., tail]: maximal runs of frame nodes linked one-to-one."""
    chains: dict[str, list[str]] = {}
    member: set[str] = set()
    for name in plan.order:
        if name in member or plan.kind(name) not in FRAME_KINDS:
            continue
        chain = [name]
        while True:
            last = chain[-1]
            nxt = plan.succ[last]
            if len(nxt) != 1 or last in keep:
                break
            b = nxt[0]
            if plan.kind(b) not in FRAME_KINDS or len(plan.pred[b]) != 1:
                break
            chain.append(b)
        member.update(chain)
        chains[name] = chain
    return chains


def _run_chain(plan: Plan, chain: list[str], x: torch.Tensor, chunk_frames: int, observer: Observer | None) -> torch.Tensor:
    n, T = x.shape[:2]
    per = max(1, chunk_frames // T)
    if all(getattr(plan.kernels[m], "whole_batch", False) for m in chain):
        per = n  # event-driven convs keep no large temporaries: one call, no per-chunk copy into the output
    out = None
    for i in range(0, n, per):
        z = x[i:i + per]
        nc = z.shape[0]
        for name in chain:
            if plan.delays(name):
                z = _shift(z)
            frames = z.reshape(nc * T, *z.shape[2:])
            if observer is not None and plan.kind(name) in SYNAPSE_KINDS:
                observe(plan, observer, name, z, nc)
            frames = plan.kernels[name](frames)
            z = frames.reshape(nc, T, *frames.shape[1:])
        if out is None:
            if nc == n:
                return z
            out = torch.empty((n, T, *z.shape[2:]), dtype=z.dtype)
        out[i:i + nc] = z
    return out


def observe(plan: Plan, observer: Observer, name: str, z: torch.Tensor, n: int) -> None:
    """Show ``observer`` the input z [n, steps, ...] of synapse ``name``: all steps, or in a pipeline run
    its T active steps (input events outside them, possible only where paths of different depths join,
    are summed into ``plan.outside_events``)."""
    act = plan.active(name)
    if act is None:
        observer(name, z.reshape(-1, *z.shape[2:]), n)
        return
    inside = z[:, act]
    outside = int(torch.count_nonzero(z)) - int(torch.count_nonzero(inside))
    if outside:
        plan.outside_events[name] = plan.outside_events.get(name, 0) + outside
    observer(name, inside.reshape(-1, *z.shape[2:]), n)


def _pipeline_neuron(plan: Plan, name: str, z: torch.Tensor, record_voltage: bool):
    """A neuron in a pipeline run: fresh state at its first active step d_k, T steps, at rest (0) elsewhere.
    Returns (value over all steps, voltages of the active steps, spiking, active spikes or None)."""
    act = plan.active(name)
    value, volts, spiking = _run_neuron(plan, name, z[:, act].contiguous(), record_voltage, owned=True)
    full = torch.zeros((z.shape[0], z.shape[1], *value.shape[2:]), dtype=value.dtype)
    full[:, act] = value
    return full, volts, spiking, (value if spiking else None)


def _run_neuron(plan: Plan, name: str, z: torch.Tensor, record_voltage: bool, owned: bool = False):
    """Run a neuron population over all T steps; z is [N, T, ...]. Step t works on the view z[:, t]
    (N contiguous blocks), state in place, spikes written straight into out[:, t]. When z is a float32
    temporary (``owned``), out is z itself: step t reads z[:, t] completely before its spikes overwrite it,
    so no second [N, T, ...] tensor is allocated (fresh pages of a large tensor cost page faults). Float
    LIF / IF / LI populations run all steps in one fused C++ call instead (:mod:`snnc.backends.cpu.lif_loop`,
    bit-identical; the torch loop when it is disabled or unavailable), and so do fixed-point LoihiLIF ones
    (:mod:`snnc.backends.cpu.loihi_loop`, equal integers)."""
    neuron = make_neuron(plan.g.nodes[name], plan.dt, plan.threshold, plan.reset, plan.dtype, name)
    n, T = z.shape[:2]
    keep_v = record_voltage or not neuron.spiking
    out_dtype = torch.float32 if not plan.fixed else plan.dtype
    if not neuron.spiking:
        out = None
    elif owned and z.dtype == out_dtype and z.is_contiguous():
        out = z
    else:
        out = torch.empty(z.shape, dtype=out_dtype)
    volts = torch.empty(z.shape, dtype=torch.float64 if plan.fixed else plan.dtype) if keep_v else None
    with _elementwise_threads():
        if lif_loop.run_all_steps(neuron, z, out, volts) or loihi_loop.run_all_steps(neuron, z, out, volts):
            # float LIF/IF/LI or fixed-point LoihiLIF: one fused C++ pass, same bits
            return (out if neuron.spiking else volts.to(plan.dtype)), volts, neuron.spiking
        neuron.reset_state((n, *z.shape[2:]))
        for t in range(T):
            s = neuron.step(z[:, t])
            if out is not None:
                out[:, t] = s
            if volts is not None:
                volts[:, t] = neuron.v
    return (out if neuron.spiking else volts.to(plan.dtype)), volts, neuron.spiking


def run_layers(plan: Plan, x: torch.Tensor, record_voltage: bool, observer: Observer | None,
               chunk_frames: int, probes: dict | None = None) -> SimResult:
    """Feed-forward schedule (module docstring)."""
    T = x.shape[1]
    keep = {n for n in plan.order if plan.kind(n) in NEURON_KINDS}
    chains = _chains(plan, keep)
    in_chain = {m: head for head, c in chains.items() for m in c}
    values: dict[str, torch.Tensor] = {}
    uses = {n: len(plan.succ[n]) for n in plan.order}
    spikes, volts, output = {}, {}, None

    def summed(name: str) -> tuple[torch.Tensor, bool]:
        """The summed input of ``name`` and whether it is a temporary nobody else reads (owned)."""
        srcs = plan.pred[name]
        acc = values[srcs[0]]
        for s in srcs[1:]:
            acc = acc + values[s]
        owned = len(srcs) > 1
        for s in srcs:
            uses[s] -= 1
            if uses[s] == 0 and s not in keep:
                values.pop(s, None)
                owned = owned or plan.kind(s) != "Input"  # the input may share the caller's memory
        return acc, owned

    for name in plan.order:
        kind = plan.kind(name)
        if name in in_chain and in_chain[name] != name:
            continue
        if kind == "Input":
            values[name] = x
            continue
        z, owned = summed(name)
        if probes and name in probes:
            probes[name](z)
        if name in chains:
            chain = chains[name]
            values[chain[-1]] = _run_chain(plan, chain, z, chunk_frames, observer)
        elif kind == "Output":
            output = z
        elif kind in ATTENTION_KINDS and plan.pipeline:  # the window it attends to: its T active steps
            y = torch.zeros_like(z)
            y[:, plan.active(name)] = _asa(plan, name, z[:, plan.active(name)].contiguous(), True)
            values[name] = y
        elif kind in ATTENTION_KINDS:
            values[name] = _asa(plan, name, z, owned)
        elif kind == "TimeGain":
            values[name] = _timegain(plan, name, z, plan.source_steps(name, T), owned)
        elif kind in NEURON_KINDS and plan.pipeline:
            values[name], v, spiking, active = _pipeline_neuron(plan, name, z, record_voltage)
            if spiking:
                spikes[name] = active
            if v is not None and record_voltage:
                volts[name] = v
        elif kind in NEURON_KINDS:
            out, v, spiking = _run_neuron(plan, name, z, record_voltage, owned)
            values[name] = out
            if spiking:
                spikes[name] = out
            if v is not None and record_voltage:
                volts[name] = v
        else:  # pragma: no cover - check_supported refuses the rest
            raise SnncError(f"graph: node {name!r} ({kind}) cannot be executed")
    return _result(plan, spikes, output, volts, "layer")


def _np(t: torch.Tensor) -> np.ndarray:
    return t.to(torch.float32).numpy() if t.dtype != torch.float32 else t.numpy()


def _result(plan: Plan, spikes, output, volts, mode: str) -> SimResult:
    extras = {"schedule": mode, "threshold": plan.threshold, "reset": plan.reset, "dt": plan.dt}
    if plan.pipeline:  # the output's steps D … T + D − 1; every layer's spikes are already its active steps
        output = output[:, plan.D:plan.D + plan.T_active]
        extras.update(pipeline_extras(plan.D, {k: plan.start[k] for k in spikes}, plan.outside_events))
    return SimResult(
        spikes={k: _np(v) for k, v in spikes.items()},
        output=_np(output),
        voltages={k: (v.numpy() if plan.fixed else _np(v)) for k, v in volts.items()},
        timing=plan.timing, numerics="fixed" if plan.fixed else "float",
        extras=extras,
    )



def run(graph: nir.NIRGraph, x, *, timing: str = "snnc", record_voltage: bool = False, threshold: str | None = None,
        dt: float | None = None, observer: Observer | None = None, chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        channels_last: bool = False, conv: str | None = None, readout: str = "unshifted",
        probes: dict[str, Callable[[torch.Tensor], None]] | None = None) -> SimResult:
    """Simulate ``graph`` on x [N, T, *in_shape] (docs/design.md §5); deterministic.

    ``threshold`` (">" or ">=") overrides the graph's; ``dt`` overrides ``metadata["snnc"]["dt"]``.
    ``conv``: ``"dense"`` (float results bit-identical to the PyTorch model), ``"event"`` (event-driven
    convolution over the non-zero inputs; float sums in another order) or ``"auto"`` (event where the input
    is sparse); None (default): dense for float graphs, auto for fixed point, where every choice gives the
    same integers; see :mod:`snnc.backends.cpu.ops`. ``readout``: ``"unshifted"`` or, under
    Lava timing, ``"pipeline"`` (module docstring; ignored under snnc timing, which has no delay).
    ``probes``: node name -> callback called with that node's summed input [N, steps, ...] as it is computed
    (feed-forward schedule; nodes inside a fused chain of stateless nodes are not reached: callers check).
    """
    plan = Plan(graph, timing, threshold, dt, channels_last, conv, readout)
    if len(plan.inputs) != 1 or len(plan.outputs) != 1:
        raise SnncError(f"graph: needs one Input and one Output, has {plan.inputs} and {plan.outputs}")
    xt = pipeline_input(plan, check_input(plan, x))
    with torch.no_grad():
        if plan.back:
            from snnc.backends.cpu.stepwise import run_steps

            return run_steps(plan, xt, record_voltage, observer)
        return run_layers(plan, xt, record_voltage, observer, chunk_frames, probes)
