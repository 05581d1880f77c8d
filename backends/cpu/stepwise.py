"""Step-by-step schedule of the reference simulator, for graphs with cycles (recurrent connections).

Every node advances one step at a time in topological order (recurrent edges ignored for the order);
a recurrent edge carries its source's value of the previous step (0 at t = 0). Under lava timing a
delaying node keeps its last input and computes f(x_{t−1}). Same kernels and neurons as the
layer-by-layer schedule (:mod:`snnc.backends.cpu.simulator`), so both give identical results on
feed-forward graphs (tested). A pipeline-readout run (:mod:`snnc.backends.cpu.simulator`) holds each
neuron at rest outside its T active steps and keeps only those steps.
"""

from __future__ import annotations

import torch

from snnc.backends.cpu.neurons import make_neuron
from snnc.backends.cpu.ops import FRAME_KINDS
from snnc.backends.cpu.gains import _timegain
from snnc.backends.cpu.simulator import Observer, Plan, _result, observe
from snnc.backends.result import SimResult
from snnc.compiler.ir.kinds import NEURON_KINDS, SYNAPSE_KINDS
from snnc.compiler.ir.shapes import shape_of
from snnc.errors import SnncError


def run_steps(plan: Plan, x: torch.Tensor, record_voltage: bool, observer: Observer | None) -> SimResult:
    """Step-by-step schedule for graphs with cycles (module docstring)."""
    n, T = x.shape[:2]
    zeros = {name: torch.zeros((n, *shape_of(plan.g, name, "output")), dtype=plan.dtype) for name in plan.order}
    neurons = {}
    for name in plan.order:
        kind = plan.kind(name)
        if kind in ("ASA", "MultiDimAttention"):
            raise SnncError(f"graph: {kind} node {name!r} needs the whole window; it cannot sit in a recurrent graph")
        if kind in NEURON_KINDS:
            neurons[name] = make_neuron(plan.g.nodes[name], plan.dt, plan.threshold, plan.reset, plan.dtype, name)
            neurons[name].reset_state((n, *shape_of(plan.g, name, "output")))
    last_in = {name: None for name in plan.order if plan.delays(name)}
    rec = {name: [] for name in neurons}
    vrec = {name: [] for name in neurons}
    outs = []
    prev: dict[str, torch.Tensor] = {}
    for t in range(T):
        cur: dict[str, torch.Tensor] = {}
        for name in plan.order:
            kind = plan.kind(name)
            if kind == "Input":
                cur[name] = x[:, t]
                continue
            terms = [prev.get(p, zeros[p]) if (p, name) in plan.back else cur[p] for p in plan.pred[name]]
            z = terms[0]
            for term in terms[1:]:
                z = z + term
            if kind == "Output":
                outs.append(z)
            elif kind in FRAME_KINDS:
                if name in last_in:
                    z, last_in[name] = (last_in[name] if last_in[name] is not None else torch.zeros_like(z)), z
                if observer is not None and kind in SYNAPSE_KINDS:
                    _observe_step(plan, observer, name, z, n, t)
                cur[name] = plan.kernels[name](z)
            elif kind == "TimeGain":
                step = plan.source_steps(name, T)[t:t + 1]
                cur[name] = _timegain(plan, name, z[:, None], step)[:, 0]
            elif not _is_active(plan, name, t):  # pipeline run: at rest, input dropped
                neuron = neurons[name]
                neuron.reset_state(tuple(z.shape))
                cur[name] = torch.zeros_like(z) if neuron.spiking else neuron.v.clone()
            else:
                neuron = neurons[name]
                s = neuron.step(z)
                cur[name] = s.to(torch.float32 if not plan.fixed else plan.dtype) if neuron.spiking else neuron.v.clone()
                if neuron.spiking:
                    rec[name].append(cur[name])
                if record_voltage:
                    vrec[name].append(neuron.v.clone())
        prev = cur
    spikes = {k: torch.stack(v, 1) for k, v in rec.items() if v}
    volts = {k: torch.stack(v, 1) for k, v in vrec.items() if v}
    return _result(plan, spikes, torch.stack(outs, 1), volts, "step")


def _is_active(plan: Plan, name: str, t: int) -> bool:
    act = plan.active(name)
    return act is None or act.start <= t < act.stop


def _observe_step(plan: Plan, observer: Observer, name: str, z: torch.Tensor, n: int, t: int) -> None:
    """The observer sees step t's input unless a pipeline run has it outside the synapse's active steps
    (then its events go to ``plan.outside_events``)."""
    if _is_active(plan, name, t):
        observer(name, z, n)
        return
    events = int(torch.count_nonzero(z))
    if events:
        plan.outside_events[name] = plan.outside_events.get(name, 0) + events
