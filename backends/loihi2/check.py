"""What a Loihi 2 chip cannot host, refused before anything is built (pure NumPy/NIR, no Lava).

Two checks, one line each, naming the node and the way out (``UnsupportedNodeError`` / ``SnncError``):

- :func:`refuse_source` — on the graph ``snnc compile --target loihi2`` starts from, before any pass
  runs: neurons the fixed-point lowering cannot map to Loihi's LIF (CubaLIF), attention that
  would become time-varying gains (``--gain-granularity`` other than ``c``), time-varying or rectifying
  TimeGains already in the file, float numerics, exact ASA, and every node the Lava lowering refuses;
- :func:`refuse_compiled` — on a compiled graph handed to the backend: any TimeGain left (per-t or
  per-(t, c) gains: a stock LIF has no per-step input gain; a rectifying gain: no input ReLU), float
  numerics, and what :func:`snnc.backends.lava.lower.lower` refuses (it runs next).

Stock ``LIF`` computes u ← u·(4096 − du)/4096 + a, v ← v·(4096 − dv)/4096 + u + bias, spike v > vth
(scalar per population): per-channel attention gains are exact only when folded into the weights
(``fold_static_gains``), which granularity ``c`` makes possible.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.ir.kinds import ALL_NEURON_KINDS
from snnc.compiler.window_attention import is_attention
from snnc.errors import SnncError, UnsupportedNodeError

WHERE = "--target loihi2"
WAY_OUT_GAINS = "way out: --gain-granularity c (per-channel gains folded into the weights)"
GRANULARITY_NAMES = {"t": "per-t", "tc": "per-(t, c)", "tchw": "per-(t, c, h, w)"}
NEURON_WAY_OUT = {
    "CubaLIF": "snnc quantizes LIF only (no CubaLIF-to-Loihi-LIF mapping); way out: --target cpu, or a LIF model",
}


def gain_kind(gain) -> str:
    """'per-t', 'per-(t, c)', 'per-(t, c, h, w)' or 'per-c' for a TimeGain table (T, *g)."""
    g = np.asarray(gain)
    varies_in_t = g.shape[0] > 1 and bool(np.any(g != g[:1]))
    inner = int(np.prod(g.shape[1:])) if g.ndim > 1 else 1
    space = "" if inner == 1 else (", c" if g.ndim <= 2 or int(np.prod(g.shape[2:])) == 1 else ", c, h, w")
    if not varies_in_t:
        return {"": "constant", ", c": "per-c"}.get(space, "per-(c, h, w)")
    return f"per-(t{space})" if space else "per-t"


def _refuse_timegain(name: str, node, where: str) -> None:
    if node.rectify:
        raise UnsupportedNodeError(f"{where}: node {name!r} (TimeGain) rectifies its input (MA-SNN attention's "
                                   "ReLU), which Loihi's LIF cannot do; way out: compile the uncompiled model with "
                                   "--target loihi2 (its fixed-point pipeline fuses the attention without the ReLU)")
    raise UnsupportedNodeError(f"{where}: node {name!r} (TimeGain, {gain_kind(node.gain)} gains) is an input "
                               "gain stage, which a stock LIF cannot host (only gains folded into the weights); "
                               f"{WAY_OUT_GAINS}")


def refuse_source(graph: nir.NIRGraph, opts, where: str = WHERE) -> None:
    """Refuse, before any pass, a source graph + options that cannot end on the chip (module docstring).

    ``opts``: the :class:`snnc.compiler.compile_options.CompileOptions` of the compile; ``where`` names the
    target in the message (``--target netx`` uses the same checks: NetX describes the same stock LIF)."""
    for name, node in graph.nodes.items():
        kind = node_kind(node)
        if kind in NEURON_WAY_OUT:
            raise UnsupportedNodeError(f"{where}: node {name!r} ({kind}) cannot run on Loihi's stock LIF: "
                                       f"{NEURON_WAY_OUT[kind]}")
    if ((graph.metadata or {}).get("snnc") or {}).get("reset", "zero") != "zero":
        name = next((n for n, node in graph.nodes.items() if node_kind(node) in ALL_NEURON_KINDS), None)
        kind = node_kind(graph.nodes[name]) if name else "-"
        raise UnsupportedNodeError(f"{where}: node {name!r} ({kind}) resets by subtraction (v -= v_threshold, as "
                                   "the whole graph), Loihi's LIF resets v to 0; way out: --target lava --float or "
                                   "--target cpu (simulation only)")
    if opts.fixed_point is False:
        raise SnncError(f"--float: {where} runs Loihi's fixed-point arithmetic only; way out: drop --float "
                        "(or --target lava --float for a float simulation)")
    attention = sorted(n for n, node in graph.nodes.items() if is_attention(node))
    if attention and opts.asa_mode == "exact":
        raise UnsupportedNodeError(f"{where}: node {attention[0]!r} ({node_kind(graph.nodes[attention[0]])}) with "
                                   "--asa-mode exact needs the whole window (non-causal); way out: --asa-mode fused "
                                   "--gain-granularity c")
    if attention and opts.gain_granularity != "c":
        name = attention[0]
        raise UnsupportedNodeError(f"{where}: node {name!r} ({node_kind(graph.nodes[name])}) would become "
                                   f"{GRANULARITY_NAMES.get(opts.gain_granularity, opts.gain_granularity)} gains "
                                   f"(--gain-granularity {opts.gain_granularity}), "
                                   f"which vary in time and a stock LIF cannot host; {WAY_OUT_GAINS}")
    for name, node in graph.nodes.items():  # TimeGains already in the file: only time-constant ones fold
        if node_kind(node) == "TimeGain" and (node.rectify or gain_kind(node.gain).startswith(("per-t", "per-(t"))):
            _refuse_timegain(name, node, where)


def refuse_compiled(graph: nir.NIRGraph) -> None:
    """Refuse a compiled graph the stock Loihi 2 processes cannot run (module docstring)."""
    for name, node in graph.nodes.items():
        if node_kind(node) == "TimeGain":
            _refuse_timegain(name, node, "loihi2")
    for name, node in graph.nodes.items():
        kind = node_kind(node)
        if kind in ALL_NEURON_KINDS and kind != "LoihiLIF":
            why = NEURON_WAY_OUT.get(kind, "compile with --target loihi2 (fixed point: quantize makes LoihiLIF)")
            raise UnsupportedNodeError(f"loihi2: node {name!r} ({kind}) is not a fixed-point Loihi LIF: {why}")
    meta = (graph.metadata or {}).get("snnc") or {}
    if meta.get("reset", "zero") != "zero":
        raise UnsupportedNodeError("loihi2: the graph resets by subtraction; Loihi's LIF resets v to 0")
    if meta.get("threshold", ">") != ">":
        raise SnncError(f"loihi2: threshold {meta.get('threshold')!r}: Loihi's LIF spikes on v > vth only")
