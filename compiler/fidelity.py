"""Fidelity of a compiled graph against a reference graph on held-out samples (reference simulator).

Both graphs run on ``snnc.backends.cpu`` (snnc timing). Per spiking layer present in both
(same node name; LoihiLIF replaces LIF under the same name), with s the spike tensors [N, T, ...]:

* ``spikes_ref``, ``spikes``: total spike counts; ``rel_diff`` = (spikes − spikes_ref)/spikes_ref;
* ``step_agreement``: fraction of (n, t, neuron) entries with equal spikes;
* ``count_agreement``: fraction of (n, neuron) whose spike count over the window is equal.

Accuracy uses the graph's readout (docs/design.md §3.2): mean of output spikes over T, averaged
over groups for ``vote``; the predicted class is the argmax (ties: lowest index, as ``np.argmax``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import node_kind

SPIKING = ("LIF", "IF", "CubaLIF", "LoihiLIF")


def readout_rates(graph: nir.NIRGraph, output: np.ndarray) -> np.ndarray:
    """Class scores (N, classes) from the graph output [N, T, F]."""
    rates = np.asarray(output, dtype=np.float64).reshape(output.shape[0], output.shape[1], -1).mean(axis=1)
    readout = ((graph.metadata or {}).get("snnc") or {}).get("readout") or {"kind": "mean"}
    if readout.get("kind") == "vote":
        group = int(readout["group"])
        rates = rates.reshape(rates.shape[0], -1, group).mean(axis=-1)
    return rates


def run_batched(graph: nir.NIRGraph, x: np.ndarray, batch_size: int = 32,
                progress: Callable[[int], None] | None = None,
                timing: str = "snnc") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(spikes per spiking node, output) of ``graph`` on frames x, run in batches on the CPU simulator."""
    from snnc.backends.cpu import run

    spikes: dict[str, list[np.ndarray]] = {}
    outputs = []
    for i in range(0, len(x), batch_size):
        res = run(graph, x[i:i + batch_size], timing=timing)
        for name, s in res.spikes.items():
            spikes.setdefault(name, []).append(np.asarray(s))
        outputs.append(np.asarray(res.output))
        if progress is not None:
            progress(min(i + batch_size, len(x)))
    return {k: np.concatenate(v) for k, v in spikes.items()}, np.concatenate(outputs)


def layer_agreement(ref: np.ndarray, out: np.ndarray) -> dict[str, float]:
    """Spike statistics of one layer (module docstring)."""
    total_ref, total = float(ref.sum()), float(out.sum())
    counts_ref = ref.reshape(ref.shape[0], ref.shape[1], -1).sum(axis=1)
    counts = out.reshape(out.shape[0], out.shape[1], -1).sum(axis=1)
    return {
        "spikes_ref": total_ref, "spikes": total,
        "rel_diff": (total - total_ref) / total_ref if total_ref else (0.0 if total == 0 else float("inf")),
        "step_agreement": float(np.mean(ref == out)),
        "count_agreement": float(np.mean(counts_ref == counts)),
    }


def spiking_layers(graph: nir.NIRGraph) -> list[str]:
    return [n for n, node in graph.nodes.items() if node_kind(node) in SPIKING]


def measure(reference: nir.NIRGraph, compiled: nir.NIRGraph, x: np.ndarray, labels: np.ndarray | None,
            reference_run: tuple[dict, np.ndarray] | None = None,
            progress: Callable[[str, int, int], None] | None = None, timing: str = "snnc") -> dict[str, Any]:
    """Accuracy of both graphs, prediction agreement and per-layer spike agreement on frames x.

    The reference always runs under snnc timing; ``timing`` applies to the compiled graph ("lava":
    one step of delay per synapse, as deployed, docs/design.md §3.4)."""
    def cb(what):
        return None if progress is None else (lambda done: progress(what, done, len(x)))

    if reference_run is None:
        reference_run = run_batched(reference, x, progress=cb("reference"))
    ref_spikes, ref_out = reference_run
    label = "compiled" if timing == "snnc" else f"compiled, {timing} timing"
    spikes, out = run_batched(compiled, x, progress=cb(label), timing=timing)
    pred_ref = readout_rates(reference, ref_out).argmax(axis=1)
    pred = readout_rates(compiled, out).argmax(axis=1)
    result: dict[str, Any] = {
        "samples": int(len(x)), "timing": timing,
        "prediction_agreement": float(np.mean(pred == pred_ref)),
        "layers": {name: layer_agreement(ref_spikes[name], spikes[name])
                   for name in spiking_layers(compiled) if name in ref_spikes and name in spikes},
    }
    if labels is not None:
        result["accuracy_ref"] = float(np.mean(pred_ref == labels))
        result["accuracy"] = float(np.mean(pred == labels))
        result["accuracy_delta_points"] = 100.0 * (result["accuracy"] - result["accuracy_ref"])
    return result
