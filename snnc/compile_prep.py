"""Before the passes run: the facts a graph must carry to be compiled, and the refusals that come first.

:func:`prepare_source` returns a copy of the loaded graph with ``metadata["snnc"]["T"]`` and ``["dt"]``
set from ``--T`` / ``--data FILE`` / ``--dt`` (so the artifact, and every later ``simulate`` or
``regress`` of it, runs with them), and the notes the report prints: what the file itself says
(``source_notes``: old NIR version, batch-typed I/O), numerics chosen for the target. It refuses,
in one line each: a graph whose neurons depend on dt and that has none (:func:`require_dt`),
and for ``--target lava`` a node no pass can make Lava-hostable (CubaLIF, LI, recurrent edges).
"""

from __future__ import annotations

import nir

from snnc.compile_data import check_steps_fit, resolve_T
from snnc.compiler.ir.graph_utils import back_edges, make_graph, node_kind
from snnc.compiler.ir.kinds import ALL_NEURON_KINDS
from snnc.compiler.timestep import require_dt
from snnc.errors import SnncError, UnsupportedNodeError

# kinds the lava pipeline turns into something Lava hosts (passes) or that Lava hosts as they are
LAVA_REACHABLE = ("Input", "Output", "Affine", "Linear", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten", "LIF", "IF",
                  "LoihiLIF", "TimeGain", "BatchNorm", "ASA", "MultiDimAttention", "MaxPool2d")
LAVA_REASONS = {
    "CubaLIF": "the lava backend lowers LIF and IF only (no synaptic-current CubaLIF mapping)",
    "LI": "Lava streams spikes; a non-spiking LI readout has no Lava process here",
    "CubaLI": "Lava streams spikes; a non-spiking CubaLI readout has no Lava process here",
}
QUANTIZABLE_NEURONS = ("LIF", "LoihiLIF")


def refuse_on_lava(graph: nir.NIRGraph, where: str = "--target lava") -> None:
    """UnsupportedNodeError naming the first node the lava target can never host, and why."""
    for name, node in graph.nodes.items():
        kind = node_kind(node)
        if kind not in LAVA_REACHABLE:
            why = LAVA_REASONS.get(kind, "the lava backend has no mapping for it")
            raise UnsupportedNodeError(f"{where}: node {name!r} ({kind}) cannot run on Lava: {why}")
    back = sorted(back_edges(graph))
    if back:
        a, b = back[0]
        raise UnsupportedNodeError(f"{where}: node {b!r} ({node_kind(graph.nodes[b])}) receives a recurrent edge from "
                                   f"{a!r}; the lava backend has no recurrent connections")


def float_only_neurons(graph: nir.NIRGraph) -> list[str]:
    """Neurons ``quantize`` cannot map to Loihi fixed point (it maps LIF only), e.g. IF, CubaLIF."""
    return sorted(n for n, node in graph.nodes.items()
                  if node_kind(node) in ALL_NEURON_KINDS and node_kind(node) not in QUANTIZABLE_NEURONS)


def prepare_source(source: nir.NIRGraph, opts, where: str) -> tuple[nir.NIRGraph, list[str]]:
    """(source with T and dt in its metadata, notes); ``opts.fixed_point`` is resolved for lava."""
    meta = dict(source.metadata or {})
    snnc = dict(meta.get("snnc") or {})
    notes = [f"{where}: {n}" for n in snnc.get("source_notes") or []]
    dt = require_dt(source, opts.dt, where=where)
    if opts.dt is not None or "dt" in snnc or _depends_on_dt(source):
        snnc["dt"] = float(dt)
    T = resolve_T(source, opts.T, opts.data)
    if T is not None:
        check_steps_fit(source, T, f"--T {opts.T}" if opts.T is not None else f"--data {opts.data}")
        snnc["T"] = int(T)
    if opts.target in ("loihi2", "netx"):  # the chip: stock LIF only, no per-step gains (backends/loihi2/check.py)
        from snnc.backends.loihi2.check import refuse_source

        refuse_source(source, opts, f"--target {opts.target}")
        refuse_on_lava(source, f"--target {opts.target}")
    if opts.target == "lava":
        refuse_on_lava(source)
        if opts.fixed_point is None and float_only_neurons(source):
            opts.fixed_point = False
            names = float_only_neurons(source)
            notes.append(f"lava: compiled in float (Lava's floating_pt models): quantize maps LIF only and the "
                         f"graph has {node_kind(source.nodes[names[0]])} {names[0]!r}"
                         + (f" (+{len(names) - 1} more)" if len(names) > 1 else ""))
    if opts.calibrate < 0:
        raise SnncError(f"--calibrate: must be >= 0, got {opts.calibrate}")
    if snnc == (meta.get("snnc") or {}):
        return source, notes
    meta["snnc"] = snnc
    return make_graph(source.nodes, source.edges, meta), notes


def _depends_on_dt(graph: nir.NIRGraph) -> bool:
    from snnc.compiler.timestep import dt_dependent_nodes

    return bool(dt_dependent_nodes(graph))
