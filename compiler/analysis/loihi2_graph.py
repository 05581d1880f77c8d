"""From an IR graph to the populations of the Loihi 2 resource model (:mod:`.loihi2_resources` states it).

Walks the shape-inferred graph: every synapse node becomes a :class:`SynapseGroup`, assigned to the neuron
population(s) it reaches through elementwise nodes, or to a relay population of its own; the fan-out of a
population is the sum over the synapse groups it feeds of their per-neuron fan-out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import nir

from snnc.compiler.analysis.loihi2_limits import Loihi2Limits
from snnc.compiler.analysis.loihi2_synapses import SynapseGroup, weight_bits_of
from snnc.compiler.ir.graph_utils import node_kind, predecessors, successors, topological_order
from snnc.compiler.ir.shapes import infer_shapes, pair, shape_of
from snnc.errors import SnncError

SYNAPSE_NODE_KINDS = ("Conv2d", "Affine", "Linear", "SumPool2d", "AvgPool2d", "MaxPool2d")
POPULATION_KINDS = ("LIF", "IF", "CubaLIF", "LoihiLIF", "LI", "CubaLI", "I", "Threshold")
#: elementwise kinds the compiler folds into weights or neurons: no resources of their own
PASS_KINDS = ("Flatten", "TimeGain", "BatchNorm", "ASA", "MultiDimAttention", "Scale", "Delay")
ENDPOINT_KINDS = ("Input", "Output")


@dataclass
class Population:
    """A population of compartments: its (C, H, W) shape and the synapse groups that feed it."""

    name: str
    kind: str
    shape: tuple[int, int, int]
    groups: list[SynapseGroup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _chw(shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) == 3:
        return int(shape[0]), int(shape[1]), int(shape[2])
    return int(np.prod(shape, dtype=np.int64)), 1, 1


def _group(g: nir.NIRGraph, name: str, limits: Loihi2Limits) -> SynapseGroup:
    node, kind = g.nodes[name], node_kind(g.nodes[name])
    s_in, s_out = shape_of(g, name, "input"), shape_of(g, name, "output")
    if kind in ("Affine", "Linear"):
        bits, _ = weight_bits_of(node.weight, limits)
        return SynapseGroup(name, "dense", "dense", c_in=int(s_in[0]), c_out=int(s_out[0]), weight_bits=bits)
    if kind == "Conv2d":
        w = np.asarray(node.weight)
        k, d = (int(w.shape[2]), int(w.shape[3])), pair(node.dilation)
        pad = node.padding
        if isinstance(pad, str):
            pad = (0, 0) if pad == "valid" else tuple(d[i] * (k[i] - 1) // 2 for i in range(2))
        bits, _ = weight_bits_of(w, limits)
        return SynapseGroup(name, "conv", "conv", c_in=int(s_in[0]), c_out=int(s_out[0]),
                            groups=int(np.asarray(node.groups).reshape(-1)[0]), kernel=k, stride=pair(node.stride),
                            padding=pair(pad), dilation=d, in_hw=(int(s_in[1]), int(s_in[2])),
                            out_hw=(int(s_out[1]), int(s_out[2])), weight_bits=bits)
    label = {"MaxPool2d": "or-pool", "SumPool2d": "sum-pool", "AvgPool2d": "avg-pool"}[kind]
    return SynapseGroup(name, label, "conv", c_in=int(s_in[0]), c_out=int(s_out[0]), groups=int(s_in[0]),
                        kernel=pair(node.kernel_size), stride=pair(node.stride), padding=pair(node.padding),
                        in_hw=(int(s_in[1]), int(s_in[2])), out_hw=(int(s_out[1]), int(s_out[2])), weight_bits=1)


def _ends(start: str, step: dict[str, list[str]], g: nir.NIRGraph) -> list[str]:
    """The first non-elementwise nodes reached from ``start`` along ``step`` (successors or predecessors)."""
    out, stack, seen = [], list(step.get(start, [])), set()
    while stack:
        n = stack.pop()
        if n in seen or n not in g.nodes:
            continue
        seen.add(n)
        if node_kind(g.nodes[n]) in PASS_KINDS:
            stack.extend(step.get(n, []))
        else:
            out.append(n)
    return sorted(out)


def _refuse_unmodelled(g: nir.NIRGraph) -> None:
    known = SYNAPSE_NODE_KINDS + POPULATION_KINDS + PASS_KINDS + ENDPOINT_KINDS
    for name, node in g.nodes.items():
        if node_kind(node) not in known:
            raise SnncError(f"loihi2 resources: node {name!r} ({node_kind(node)}) has no Loihi 2 resource model; "
                            f"modelled kinds: {', '.join(known)}")


def populations(graph: nir.NIRGraph, limits: Loihi2Limits) -> tuple[list[Population], dict[str, int], list[str]]:
    """(populations in topological order, fan-out per population name, notes) of ``graph``."""
    _refuse_unmodelled(graph)
    g = infer_shapes(graph)
    succ, pred = successors(g), predecessors(g)
    order = topological_order(g)
    pops: dict[str, Population] = {}
    targets: dict[str, list[str]] = {}
    for name in order:
        kind = node_kind(g.nodes[name])
        if kind in POPULATION_KINDS:
            pops[name] = Population(name, kind, _chw(shape_of(g, name, "output")))
    for name in order:
        kind = node_kind(g.nodes[name])
        if kind not in SYNAPSE_NODE_KINDS:
            continue
        group = replace(_group(g, name, limits), sources=max(1, len(_ends(name, pred, g))))
        ends = _ends(name, succ, g)
        if kind != "MaxPool2d" and ends and all(node_kind(g.nodes[e]) in POPULATION_KINDS for e in ends):
            targets[name] = ends
        else:
            what = ("or-pool", "OR of spikes: sum pool of weight 1 into a memoryless neuron (exact on binary "
                    "spikes)") if kind == "MaxPool2d" else ("relay", "graded identity compartments (a synapse "
                                                            "feeds a synapse)")
            pops[name] = Population(name, what[0], _chw(shape_of(g, name, "output")), notes=[what[1]])
            targets[name] = [name]
        for t in targets[name]:
            pops[t].groups.append(group)
    fan_out: dict[str, int] = {}
    for name, tgt in targets.items():
        group = next(s for s in pops[tgt[0]].groups if s.node == name)
        for src in _ends(name, pred, g):
            if src in pops:
                fan_out[src] = fan_out.get(src, 0) + group.fan_out() * len(tgt)
    ordered = [pops[n] for n in order if n in pops]
    notes = [f"input {n!r} {list(shape_of(g, n, 'output'))} enters through the host/embedded adapters (no "
             "neurocore)" for n in order if node_kind(g.nodes[n]) == "Input"]
    folded = sorted({node_kind(g.nodes[n]) for n in order if node_kind(g.nodes[n]) in PASS_KINDS} - {"Flatten"})
    if folded:
        notes.append(f"elementwise {', '.join(folded)} counted as folded into weights/neurons (no resources)")
    for p in ordered:
        if not p.groups:
            p.notes.append("no synapse group (fed by the input directly or by elementwise nodes only)")
    return ordered, fan_out, notes
