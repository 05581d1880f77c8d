"""Fidelity of a compiled graph against a reference graph on held-out samples (reference simulator).

Both graphs run on ``snnc.backends.cpu`` (snnc timing). Per spiking layer present in both
(same node name; LoihiLIF replaces LIF under the same name), with s the spike tensors [N, T, ...]:

* ``spikes_ref``, ``spikes``: total spike counts; ``rel_diff`` = (spikes − spikes_ref)/spikes_ref;
* ``step_agreement``: fraction of (n, t, neuron) entries with equal spikes;
* ``count_agreement``: fraction of (n, neuron) whose spike count over the window is equal.

Under Lava timing the compiled graph is read out with the pipeline-aware readout by default
(docs/design.md §3.4: D zero frames, output counted over steps D … T + D − 1); ``readout="unshifted"``
keeps the old window. On a single-depth graph that readout *is* snnc timing (each layer shifted by its
depth), so :func:`measure_timings` reuses the snnc-timing run for it (the numbers are the same).

Accuracy uses the graph's readout (docs/design.md §3.2): mean of output spikes over T, averaged
over groups for ``vote``; the predicted class is the argmax (ties: lowest index, as ``np.argmax``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.ir.kinds import SPIKING_KINDS



def readout_rates(graph: nir.NIRGraph, output: np.ndarray) -> np.ndarray:
    """Class scores (N, classes) from the graph output [N, T, F]."""
    rates = np.asarray(output, dtype=np.float64).reshape(output.shape[0], output.shape[1], -1).mean(axis=1)
    readout = ((graph.metadata or {}).get("snnc") or {}).get("readout") or {"kind": "mean"}
    if readout.get("kind") == "vote":
        group = int(readout["group"])
        rates = rates.reshape(rates.shape[0], -1, group).mean(axis=-1)
    return rates


def readout_classes(graph: nir.NIRGraph) -> int:
    """Number of classes :func:`readout_rates` scores: the output's elements (÷ group for ``vote``)."""
    from snnc.compiler.ir.graph_utils import output_names
    from snnc.compiler.ir.shapes import infer_shapes, shape_of

    n = int(np.prod(shape_of(infer_shapes(graph), output_names(graph)[0], "output")))
    readout = ((graph.metadata or {}).get("snnc") or {}).get("readout") or {"kind": "mean"}
    return n // int(readout["group"]) if readout.get("kind") == "vote" and readout.get("group") else n


def timing_options(timing: str, readout: str) -> dict[str, str]:
    """The keyword arguments of an interpreter call for ``timing``: the readout matters under Lava timing only."""
    return {"timing": timing, **({"readout": readout} if timing == "lava" else {})}


def run_batched(graph: nir.NIRGraph, x: np.ndarray, batch_size: int = 32,
                progress: Callable[[int], None] | None = None,
                timing: str = "snnc", *, run: Callable[..., Any],
                readout: str = "pipeline") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(spikes per spiking node, output) of ``graph`` on frames x, run in batches by the interpreter
    ``run(graph, x, timing=..., [readout=...])`` (the reference one: ``snnc.backends.cpu.run``)."""
    spikes: dict[str, list[np.ndarray]] = {}
    outputs = []
    for i in range(0, len(x), batch_size):
        res = run(graph, x[i:i + batch_size], **timing_options(timing, readout))
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
    return [n for n, node in graph.nodes.items() if node_kind(node) in SPIKING_KINDS]


class _Agreement:
    """Running sums of :func:`layer_agreement` over batches (equal integers, so exactly the one-shot values)."""

    def __init__(self) -> None:
        self.spikes_ref = self.spikes = 0.0
        self.equal_steps = self.steps = self.equal_counts = self.counts = 0

    def add(self, ref: np.ndarray, out: np.ndarray) -> None:
        self.spikes_ref += float(ref.sum(dtype=np.float64))
        self.spikes += float(out.sum(dtype=np.float64))
        self.equal_steps += int(np.count_nonzero(ref == out))
        self.steps += int(ref.size)
        counts_ref = ref.reshape(ref.shape[0], ref.shape[1], -1).sum(axis=1)
        counts = out.reshape(out.shape[0], out.shape[1], -1).sum(axis=1)
        self.equal_counts += int(np.count_nonzero(counts_ref == counts))
        self.counts += int(counts.size)

    def result(self) -> dict[str, float]:
        total_ref, total = self.spikes_ref, self.spikes
        return {
            "spikes_ref": total_ref, "spikes": total,
            "rel_diff": (total - total_ref) / total_ref if total_ref else (0.0 if total == 0 else float("inf")),
            "step_agreement": self.equal_steps / self.steps if self.steps else float("nan"),
            "count_agreement": self.equal_counts / self.counts if self.counts else float("nan"),
        }


def measure_timings(reference: nir.NIRGraph, compiled: nir.NIRGraph, x, labels: np.ndarray | None,
                    timings: tuple[str, ...] = ("snnc",), progress: Callable[[str, int, int], None] | None = None,
                    batch_size: int = 32, *, run: Callable[..., Any], readout: str = "pipeline",
                    reuse: bool = True) -> dict[str, dict[str, Any]]:
    """:func:`measure` for each compiled-graph timing in ``timings``, streamed: the reference and the compiled
    graph run batch by batch on the same frames (``x``: an array or :class:`snnc.data.stream.Frames`) and only
    running sums are kept, so memory does not grow with the number of samples. ``run``: the interpreter;
    ``readout``: of the Lava-timing runs. With ``reuse``, a pipeline readout of a single-depth graph takes
    the snnc-timing run (module docstring)."""
    from snnc.compiler.ir.depth import single_depth

    layers = spiking_layers(compiled)
    same = {}
    if reuse and readout == "pipeline" and "lava" in timings and "snnc" in timings and single_depth(compiled):
        same["lava"] = "snnc"
    agree = {t: {} for t in timings}
    for t, source in same.items():  # the same spikes: one set of running sums serves both timings
        agree[t] = agree[source]
    hits = {t: {"agree": 0, "correct": 0} for t in timings}
    correct_ref, n = 0, len(x)
    labels = None if labels is None else np.asarray(labels)
    for i in range(0, n, batch_size):
        xb = np.asarray(x[i:i + batch_size])
        ref = run(reference, xb, timing="snnc")
        pred_ref = readout_rates(reference, np.asarray(ref.output)).argmax(axis=1)
        yb = None if labels is None else labels[i:i + len(xb)]
        correct_ref += 0 if yb is None else int(np.sum(pred_ref == yb))
        if progress is not None:
            progress("reference", min(i + batch_size, n), n)
        outs: dict[str, Any] = {}
        for t in timings:
            out = outs[t] = outs[same[t]] if t in same else run(compiled, xb, **timing_options(t, readout))
            pred = readout_rates(compiled, np.asarray(out.output)).argmax(axis=1)
            hits[t]["agree"] += int(np.sum(pred == pred_ref))
            hits[t]["correct"] += 0 if yb is None else int(np.sum(pred == yb))
            for name in layers if t not in same else ():
                if name in ref.spikes and name in out.spikes:
                    agree[t].setdefault(name, _Agreement()).add(np.asarray(ref.spikes[name]), np.asarray(out.spikes[name]))
            if progress is not None:
                progress("compiled" if t == "snnc" else f"compiled, {t} timing", min(i + batch_size, n), n)
    results = {}
    n = n or float("nan")  # no samples: NaN rates, as np.mean of nothing
    for t in timings:
        r: dict[str, Any] = {"samples": len(x), "timing": t, "prediction_agreement": hits[t]["agree"] / n,
                             "layers": {name: a.result() for name, a in agree[t].items()}}
        if t == "lava":
            r["readout"] = readout
        if labels is not None:
            r["accuracy_ref"] = correct_ref / n
            r["accuracy"] = hits[t]["correct"] / n
            r["accuracy_delta_points"] = 100.0 * (r["accuracy"] - r["accuracy_ref"])
        results[t] = r
    return results


def measure(reference: nir.NIRGraph, compiled: nir.NIRGraph, x: np.ndarray, labels: np.ndarray | None,
            reference_run: tuple[dict, np.ndarray] | None = None,
            progress: Callable[[str, int, int], None] | None = None, timing: str = "snnc", *,
            run: Callable[..., Any], readout: str = "pipeline") -> dict[str, Any]:
    """Accuracy of both graphs, prediction agreement and per-layer spike agreement on frames x.

    The reference always runs under snnc timing; ``timing`` applies to the compiled graph ("lava":
    one step of delay per synapse, as deployed, docs/design.md §3.4)."""
    def cb(what):
        return None if progress is None else (lambda done: progress(what, done, len(x)))

    if reference_run is None:  # streamed: memory independent of the number of samples
        return measure_timings(reference, compiled, x, labels, (timing,), progress=progress, run=run,
                               readout=readout)[timing]
    ref_spikes, ref_out = reference_run
    label = "compiled" if timing == "snnc" else f"compiled, {timing} timing"
    spikes, out = run_batched(compiled, x, progress=cb(label), timing=timing, run=run, readout=readout)
    pred_ref = readout_rates(reference, ref_out).argmax(axis=1)
    pred = readout_rates(compiled, out).argmax(axis=1)
    result: dict[str, Any] = {
        "samples": int(len(x)), "timing": timing, **({"readout": readout} if timing == "lava" else {}),
        "prediction_agreement": float(np.mean(pred == pred_ref)),
        "layers": {name: layer_agreement(ref_spikes[name], spikes[name])
                   for name in spiking_layers(compiled) if name in ref_spikes and name in spikes},
    }
    if labels is not None:
        result["accuracy_ref"] = float(np.mean(pred_ref == labels))
        result["accuracy"] = float(np.mean(pred == labels))
        result["accuracy_delta_points"] = 100.0 * (result["accuracy"] - result["accuracy_ref"])
    return result
