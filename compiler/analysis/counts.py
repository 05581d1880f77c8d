"""Measured activity and synaptic operations, per layer and per sample (docs/results.md §3).

For every synapse node (Conv2d, Affine, Linear) the simulator's observer hands over the frames
that actually reach it (after pooling, flattening, residual sums; delayed under lava timing):

- ``events``  = Σ x (spike counts weighted by value: a 2 is two events);
- ``nonzero`` = Σ [x ≠ 0];
- ``sop``     = Σ_frames ⟨x, F⟩, the exact synaptic operations: F[c, i, j] is the real fan-out of
  input element (c, i, j) — the number of (output channel, output position) pairs whose receptive
  field holds it, with stride, padding, dilation and groups (Affine: F = out_features). F is the
  gradient of Σ conv(x, ones) with respect to x, i.e. the transposed convolution of ones;
- ``mac``     = Σ_frames ⟨[x ≠ 0], F⟩, the multiplies of a layer whose input is not binary (the first
  layer on event-count frames): one multiply per non-zero pixel and real connection;
- ``fl_valid`` = Σ F, the dense count of connections that do not land on padding.

An AvgPool2d (kernel k) on spikes before a synapse is counted with sum-pool routing (every original
spike travels through its pooled position): the pooled values are multiplied by k_h·k_w first
(sinabs' rule, exact for kernel = stride).

Per spiking layer: output spikes, L-SFR(t) (spikes at t ÷ neurons), LASFR (mean over t) and
neuron updates (T × neurons per sample). NASFR = Σ_l LASFR_l·n_l / Σ_l n_l over all spiking layers.
Attention/TimeGain extra multiplies are counted from their real shapes (see :func:`attention_macs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import nir
import torch
import torch.nn.functional as F

from snnc.compiler.analysis.attention_cost import cost
from snnc.compiler.ir.graph_utils import node_kind, predecessors, reach, successors
from snnc.compiler.ir.kinds import DENSE_KINDS, NEURON_KINDS, SPIKING_KINDS, SYNAPSE_KINDS
from snnc.compiler.ir.shapes import infer_shapes, pair, shape_of


def fanout_map(node: nir.NIRNode, in_shape: tuple[int, ...]) -> torch.Tensor:
    """F: the number of postsynaptic targets of every input element, shape ``in_shape`` (float64)."""
    if node_kind(node) in DENSE_KINDS:
        return torch.full(tuple(in_shape), float(np.asarray(node.weight).shape[0]), dtype=torch.float64)
    w = np.asarray(node.weight)
    groups = int(np.asarray(node.groups).reshape(-1)[0])
    pad = node.padding if isinstance(node.padding, str) else pair(node.padding)
    x = torch.zeros((1, *in_shape), dtype=torch.float64, requires_grad=True)
    ones = torch.ones(w.shape, dtype=torch.float64)
    with torch.enable_grad():
        F.conv2d(x, ones, None, pair(node.stride), pad, pair(node.dilation), groups).sum().backward()
    return x.grad[0].detach()


@dataclass
class SynapseCount:
    """Accumulated input statistics of one synapse node (sums over all frames seen)."""

    name: str
    kind: str
    in_shape: tuple[int, ...]
    fanout: torch.Tensor
    events: float = 0.0
    nonzero: float = 0.0
    sop: float = 0.0
    mac: float = 0.0
    frames: int = 0
    binary: bool = True
    value_scale: float = 1.0  # k² per AvgPool2d between the spikes and this synapse (sum-pool routing)

    @property
    def fl_valid(self) -> float:
        return float(self.fanout.sum())

    def frame_sum(self, x: torch.Tensor) -> torch.Tensor:
        """Σ_frames x·k² of frames x [m, *in_shape] (float64; k²: the sum-pool routing scale)."""
        return x.reshape(x.shape[0], *self.in_shape).sum(0, dtype=torch.float64) * self.value_scale

    def ops(self, x: torch.Tensor) -> float:
        """The synaptic operations of frames x [m, *in_shape]: ⟨Σ_frames x·k², F⟩ (not accumulated).
        The one synaptic-operation count: :meth:`add` and the regression counter
        (:mod:`snnc.regress.synops`) both call it."""
        return self._ops_of(self.frame_sum(x))

    def _ops_of(self, total: torch.Tensor) -> float:
        return float((total * self.fanout).sum())

    def add(self, x: torch.Tensor) -> None:
        x = x.reshape(x.shape[0], *self.in_shape)
        total = self.frame_sum(x)
        nz = (x != 0).sum(0).to(torch.float64)
        self.events += float(total.sum())
        self.nonzero += float(nz.sum())
        self.sop += self._ops_of(total)  # the same product as ops(x), on the frame sum computed once
        self.mac += float((nz * self.fanout).sum())
        self.frames += int(x.shape[0])
        if self.binary and bool(((x != 0) & (x != 1.0 / self.value_scale)).any()):
            self.binary = False


@dataclass
class LayerActivity:
    """Output spikes of one spiking node, accumulated over samples."""

    name: str
    neurons: int
    spikes: float = 0.0
    per_step: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def add(self, s: np.ndarray) -> None:
        steps = s.reshape(s.shape[0], s.shape[1], -1).sum(axis=(0, 2), dtype=np.float64)
        self.per_step = steps if self.per_step.size == 0 else self.per_step + steps
        self.spikes += float(steps.sum())


def attention_macs(node: nir.NIRNode, shape: tuple[int, ...]) -> dict[str, int]:
    """Extra multiplies of an attention or TimeGain node per sample: Table S1's form (``table_s1_mac1``,
    ``mac2``) and the executed one (``executed_mac1``, ``executed_mac2``); see
    :mod:`snnc.compiler.analysis.attention_cost`."""
    c = cost(node, shape)
    return {"table_s1_mac1": c["mac1"], "mac2": c["mac2"], "executed_mac1": c["executed_mac1"],
            "executed_mac2": c["executed_mac2"], "params": c["params"]}


def avgpool_scale(g: nir.NIRGraph, name: str, pred: dict[str, list[str]]) -> float:
    """Product of k_h·k_w of the AvgPool2d nodes between ``name`` and its source (single-input chain)."""
    scale, cur = 1.0, name
    while len(pred.get(cur, [])) == 1:
        cur = pred[cur][0]
        kind = node_kind(g.nodes[cur])
        if kind == "AvgPool2d":
            kh, kw = pair(g.nodes[cur].kernel_size)
            scale *= kh * kw
        elif kind not in ("Flatten", "MaxPool2d", "SumPool2d"):
            break
    return scale


def target_layer(g: nir.NIRGraph, name: str, succ: dict[str, list[str]]) -> str | None:
    """The first spiking (or LI / Output) node downstream of ``name`` through non-synaptic nodes."""
    found = reach(g, name, succ, lambda k: k in NEURON_KINDS or k == "Output", lambda k: k not in SYNAPSE_KINDS)
    return found[0] if found else None


def synapse_count(g: nir.NIRGraph, name: str, pred: dict[str, list[str]]) -> SynapseCount:
    """An empty :class:`SynapseCount` of synapse node ``name`` of the shape-typed graph ``g``."""
    node = g.nodes[name]
    shape = shape_of(g, name, "input")
    return SynapseCount(name, node_kind(node), shape, fanout_map(node, shape),
                        value_scale=avgpool_scale(g, name, pred))


class Counter:
    """Accumulates measured counts over batches: pass ``counter.observe`` to ``run(observer=...)``."""

    def __init__(self, graph: nir.NIRGraph) -> None:
        self.g = infer_shapes(graph)
        self.succ = successors(self.g)
        pred = predecessors(self.g)
        self.synapses: dict[str, SynapseCount] = {}
        self.layers: dict[str, LayerActivity] = {}
        self.attention: dict[str, dict[str, int]] = {}
        self.samples = 0
        self.T = 0
        self.input_events = 0.0
        self.input_nonzero = 0.0
        self.input_elements = 0.0
        for name, node in self.g.nodes.items():
            kind = node_kind(node)
            if kind in SYNAPSE_KINDS:
                self.synapses[name] = synapse_count(self.g, name, pred)
            elif kind in SPIKING_KINDS:
                self.layers[name] = LayerActivity(name, int(np.prod(shape_of(self.g, name, "output"))))
            elif kind in ("ASA", "MultiDimAttention", "TimeGain"):
                self.attention[name] = attention_macs(node, shape_of(self.g, name, "output"))

    def observe(self, name: str, frames: torch.Tensor, n: int) -> None:
        self.synapses[name].add(frames)

    def add_run(self, x: np.ndarray, result) -> None:
        """Record one batch: its input frames and the run's spikes."""
        x = np.asarray(x)
        self.samples += int(x.shape[0])
        self.T = int(x.shape[1])
        self.input_events += float(x.sum(dtype=np.float64))
        self.input_nonzero += float(np.count_nonzero(x))
        self.input_elements += float(x.size)
        for name, s in result.spikes.items():
            if name in self.layers:
                self.layers[name].add(s)

    # ---- per-sample summaries -------------------------------------------------------------
    def lasfr(self, name: str) -> float:
        lay = self.layers[name]
        return lay.spikes / max(1, self.samples * self.T * lay.neurons)

    def lsfr(self, name: str) -> list[float]:
        lay = self.layers[name]
        return (lay.per_step / max(1, self.samples * lay.neurons)).tolist()

    def nasfr(self) -> float:
        n = sum(lay.neurons for lay in self.layers.values())
        return sum(self.lasfr(k) * lay.neurons for k, lay in self.layers.items()) / max(1, n)

    def input_rate(self) -> float:
        """Φ^0: the fraction of non-zero input pixels."""
        return self.input_nonzero / max(1.0, self.input_elements)

    def synapse_rate(self, name: str) -> float:
        """Φ measured at the synapse's own input: events ÷ (frames × input elements)."""
        s = self.synapses[name]
        return s.events / max(1, s.frames * int(np.prod(s.in_shape)))

    def per_sample(self, value: float) -> float:
        return value / max(1, self.samples)


def measure(graph: nir.NIRGraph, x: np.ndarray, *, timing: str = "snnc", batch: int = 16, threshold: str | None = None,
            dt: float | None = None, progress=None, keep_outputs: bool = True,
            conv: str | None = None, run: Callable[..., Any]) -> tuple[Counter, np.ndarray | None]:
    """Run ``graph`` on x in batches with counting; (counter, graph outputs [N, T, ...] or None).
    ``run``: the interpreter, called with the counting ``observer`` (the reference one:
    ``snnc.backends.cpu.run``, docs/design.md §3.6)."""
    counter = Counter(graph)
    outs = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        res = run(graph, xb, timing=timing, threshold=threshold, dt=dt, observer=counter.observe, conv=conv)
        counter.add_run(xb, res)
        if keep_outputs:
            outs.append(res.output)
        if progress is not None:
            progress(len(xb))
    return counter, (np.concatenate(outs) if keep_outputs else None)
