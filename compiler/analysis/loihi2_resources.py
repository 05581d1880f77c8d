r"""Loihi 2 resources of a graph: per population, the neurocores it needs under the per-core limits.

A *layer* is a population of compartments with the synapse groups that feed it
(:mod:`.loihi2_synapses`): a neuron node (LIF, IF, CubaLIF, LoihiLIF, LI, ...) with every synapse node
that reaches it through elementwise nodes (Flatten, TimeGain, BatchNorm, ASA, Scale: folded into the
weights or the neuron by the compiler, no chip resources), or a *relay* population of graded identity
compartments for a synapse whose output feeds another synapse (the chip has no synapse-to-synapse
connection). A MaxPool2d on spikes is counted as an OR population: a sum pool of weight 1 into a
memoryless neuron that fires on any input (exact on binary spikes; snnc's Lava targets refuse MaxPool2d).
The input layer enters through the host/embedded adapters and uses no neurocore. Every population gets
cores of its own, as nengo-loihi's ``Greedy`` allocator assigns each block to distinct cores.

A layer of shape (C, H, W) (dense: (F, 1, 1)) is cut into tiles of c channels × r rows × w columns, one per
core: cores = ⌈C/c⌉ ⌈H/r⌉ ⌈W/w⌉, the fewest over all (c, r, w) with, on the busiest core,

    c r w ≤ neurons_per_core,  Σ_groups bits(c) ≤ synapse_bits_per_core,  Σ_groups axons(c, r, w) ≤ in_axons_per_core

(ties: fewest spatial cuts, then most channels per core). A dense layer whose fan-in exceeds the in-axons of
one core cannot be fixed by cutting its neurons: its inputs are split into p = ⌈n_in / in_axons_per_core⌉
parts, each a population of graded partial sums on its own cores, joined by an identity sum (p synapses per
neuron, one step more delay). ``binding`` names the limits that the one-core mapping breaks.
Chips = max(⌈cores / cores_per_chip⌉, ⌈compartments / neurons_per_chip⌉,
⌈stored weights / synapses_per_chip⌉).
Nothing here depends on weight values except the weight bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import nir

from snnc.compiler.analysis.loihi2_graph import Population, populations
from snnc.compiler.analysis.loihi2_limits import DEFAULT_LIMITS, Loihi2Limits, limits_table
from snnc.compiler.analysis.loihi2_synapses import SynapseGroup

__all__ = ["Mapping", "map_population", "loihi2_resources"]


@dataclass(frozen=True)
class Mapping:
    """How one population is cut: channels/rows/cols per core, fan-in parts, cores, busiest-core usage."""

    channels: int
    rows: int
    cols: int
    cores: int
    neurons_per_core: int
    bits_per_core: int
    axons_per_core: int
    parts: int = 1
    part_cores: int = 0
    join_cores: int = 0


def _sizes(n: int) -> list[int]:
    """The distinct values ⌈n / k⌉ for k = 1..n, largest first."""
    return sorted({math.ceil(n / k) for k in range(1, n + 1)}, reverse=True)


def _usage(groups: list[SynapseGroup], c: int, r: int, w: int, limits: Loihi2Limits) -> tuple[int, int, int]:
    return c * r * w, sum(s.memory_bits(c, limits) for s in groups), sum(s.in_axons(c, r, w) for s in groups)


def _tile(shape: tuple[int, int, int], groups: list[SynapseGroup], limits: Loihi2Limits) -> Mapping | None:
    """The fewest-core tiling that meets all three per-core limits, or None when no tiling does."""
    C, H, W = shape
    best: tuple[tuple[int, int, int], Mapping] | None = None
    for c in _sizes(C):
        bits = sum(s.memory_bits(c, limits) for s in groups)
        if bits > limits.synapse_bits_per_core:
            continue
        for r in _sizes(H):
            for w in _sizes(W):
                n, _, axons = _usage(groups, c, r, w, limits)
                if n > limits.neurons_per_core or axons > limits.in_axons_per_core:
                    continue
                cores = math.ceil(C / c) * math.ceil(H / r) * math.ceil(W / w)
                key = (cores, math.ceil(H / r) * math.ceil(W / w), -c)
                if best is None or key < best[0]:
                    best = (key, Mapping(c, r, w, cores, n, bits, axons))
                break  # smaller w only adds cores for this (c, r)
    return None if best is None else best[1]


def binding_limits(shape: tuple[int, int, int], groups: list[SynapseGroup], limits: Loihi2Limits) -> list[str]:
    """The per-core limits a one-core mapping of the population breaks."""
    C, H, W = shape
    n, bits, axons = _usage(groups, C, H, W, limits)
    out = []
    if n > limits.neurons_per_core:
        out.append("neurons")
    if bits > limits.synapse_bits_per_core:
        out.append("synapse memory")
    if any(s.mode == "dense" and s.c_in * s.sources > limits.in_axons_per_core for s in groups):
        out.append("fan-in")
    elif axons > limits.in_axons_per_core:
        out.append("in-axons")
    return out


def map_population(shape: tuple[int, int, int], groups: list[SynapseGroup],
                   limits: Loihi2Limits = DEFAULT_LIMITS) -> Mapping | None:
    """The cores of one population (module docstring); None when it cannot be mapped."""
    direct = _tile(shape, groups, limits)
    if direct is not None or len(groups) != 1 or groups[0].mode != "dense":
        return direct
    dense = groups[0]
    parts = math.ceil(dense.c_in * dense.sources / limits.in_axons_per_core)
    part = _tile(shape, [replace(dense, c_in=math.ceil(dense.c_in / parts))], limits)
    join_group = SynapseGroup(node=dense.node, label="join", mode="join", c_in=dense.c_out * parts,
                              c_out=dense.c_out, weight_bits=1, parts=parts)
    join = _tile(shape, [join_group], limits)
    if part is None or join is None:
        return None
    return replace(part, cores=parts * part.cores + join.cores, parts=parts, part_cores=part.cores,
                   join_cores=join.cores)


def _layer_row(pop: Population, fan_out: int, limits: Loihi2Limits) -> dict[str, Any]:
    C, H, W = pop.shape
    m = map_population(pop.shape, pop.groups, limits)
    neurons = C * H * W
    row = {"name": pop.name, "kind": pop.kind, "synapses": ", ".join(s.describe() for s in pop.groups),
           "neurons": neurons, "fan_in": sum(s.fan_in for s in pop.groups), "fan_out": fan_out,
           "weight_bits": max((s.weight_bits for s in pop.groups), default=0),
           "synapses_logical": sum(s.logical_synapses() for s in pop.groups),
           "binding": binding_limits(pop.shape, pop.groups, limits), "notes": list(pop.notes),
           "mappable": m is not None}
    if m is None:
        row.update(cores=None, weights_stored=None, compartments=neurons, split=None)
        row["notes"].append("cannot be mapped under the per-core limits as modelled")
        return row
    tiles = [(min(m.channels, C - i), min(m.rows, H - j) * min(m.cols, W - k))
             for i in range(0, C, m.channels) for j in range(0, H, m.rows) for k in range(0, W, m.cols)]
    groups = pop.groups
    if m.parts > 1:  # p parts of ceil(n_in / p) inputs each, plus the join's one weight per partial sum
        groups = [replace(groups[0], c_in=math.ceil(groups[0].c_in / m.parts))]
    stored = sum(s.stored_weights(c) for c, _ in tiles for s in groups)
    if m.parts > 1:
        stored = m.parts * stored + neurons * m.parts
        row["notes"].append(f"fan-in {row['fan_in']} split into {m.parts} partial sums ({m.part_cores} cores each) "
                            f"joined on {m.join_cores} core(s): +1 step of delay")
    row.update(cores=m.cores, weights_stored=stored, compartments=neurons * (m.parts + 1 if m.parts > 1 else 1),
               neurons_per_core=m.neurons_per_core, synapse_bits_per_core=m.bits_per_core,
               in_axons_per_core=m.axons_per_core,
               split={"channels_per_core": m.channels, "rows_per_core": m.rows, "cols_per_core": m.cols,
                      "fan_in_parts": m.parts})
    return row


def loihi2_resources(graph: nir.NIRGraph, limits: Loihi2Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Per-layer and total Loihi 2 resources of ``graph`` (module docstring); SnncError for a node kind the
    model does not cover."""
    pops, fan_outs, notes = populations(graph, limits)
    rows = [_layer_row(p, fan_outs.get(p.name, 0), limits) for p in pops]
    mapped = [r for r in rows if r["mappable"]]
    cores = sum(r["cores"] for r in mapped)
    compartments = sum(r["compartments"] for r in rows)
    stored = sum(r["weights_stored"] for r in mapped)
    chips = max(math.ceil(cores / limits.cores_per_chip), math.ceil(compartments / limits.neurons_per_chip),
                math.ceil(stored / limits.synapses_per_chip), 1)
    unmapped = [r["name"] for r in rows if not r["mappable"]]
    totals = {"neurons": sum(r["neurons"] for r in rows), "compartments": compartments,
              "synapses_logical": sum(r["synapses_logical"] for r in rows), "weights_stored": stored,
              "cores": cores, "chips": chips, "fits_one_chip": chips == 1 and not unmapped, "unmapped": unmapped}
    return {"model": "snnc Loihi 2 resource model (docs/design.md, 'Loihi 2 resource report'); per-core limits "
                     "marked 'assumed' are not public",
            "limits": limits_table(limits), "layers": rows, "totals": totals, "notes": notes}

