"""``snnc simulate --executor ray``: the samples in shards, summed on the driver, identical to one process.

A shard is a contiguous range of whole batches (sample i always sits in batch i // B, as in a local
run: a matmul row's float result depends on the batch it is computed in). Each worker loads the
artifact once per process (verified by its manifest, :func:`snnc.simulate_session.load_any`), makes
its own frames from the same seeded source, and runs the CPU reference simulator batch by batch
with a counter that is zeroed before every batch, so it returns each batch's own contribution:
per layer the integer spike counts per step, per synapse the events and synaptic operations, and
the input statistics. The driver adds the contributions into one counter in batch order, which
is the very sequence of additions a local run makes: the counts, the energy report and ``--json``
are identical to ``--executor local``, bit for bit, for any number of shards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.executors.units import Unit

_GRAPHS: dict[tuple, Any] = {}  # this worker's loaded graphs (loaded and verified once per process)


def shard_bounds(n: int, batch: int, shards: int) -> list[tuple[int, int]]:
    """[lo, hi) of up to ``shards`` contiguous groups of whole batches covering samples 0..n."""
    batches = -(-n // batch)
    k = max(1, min(shards, batches))
    edges = [min(n, (batches * j // k) * batch) for j in range(k + 1)]
    return [(lo, hi) for lo, hi in zip(edges, edges[1:]) if hi > lo]


def _graph(payload: dict, which: str) -> Any:
    key = (which, payload["source"], payload["convention"], payload["baseline"])
    if key not in _GRAPHS:
        from snnc.simulate_inputs import load_any
        from snnc.simulate_session import _baseline_graph

        _GRAPHS[key] = (load_any(payload["source"], convention=payload["convention"]) if which == "simulate"
                        else _baseline_graph(payload["source"], payload["baseline"])[0])
    return _GRAPHS[key]


def _zero(counter: Any) -> None:
    """Reset every accumulator of a Counter (its static tables stay)."""
    for s in counter.synapses.values():
        s.events = s.nonzero = s.sop = s.mac = 0.0
        s.frames, s.binary = 0, True
    for lay in counter.layers.values():
        lay.spikes, lay.per_step = 0.0, np.zeros(0)
    counter.samples, counter.input_events, counter.input_nonzero, counter.input_elements = 0, 0.0, 0.0, 0.0


def _contribution(counter: Any) -> dict:
    return {"synapses": {n: (s.events, s.nonzero, s.sop, s.mac, s.frames, s.binary)
                         for n, s in counter.synapses.items()},
            "layers": {n: (lay.spikes, lay.per_step) for n, lay in counter.layers.items()},
            "input": (counter.samples, counter.T, counter.input_events, counter.input_nonzero, counter.input_elements)}


def count_shard(payload: dict) -> list[dict]:
    """Per batch of samples [lo, hi): the counter's contribution and the correct predictions."""
    import torch

    from snnc.backends.cpu.simulator import run
    from snnc.compiler.analysis.counts import Counter
    from snnc.simulate_inputs import load_data
    from snnc.simulate_session import batch_hits

    torch.set_num_threads(int(payload["threads"]))
    g = _graph(payload, payload["what"])
    x, y, _ = load_data(payload["data"], _graph(payload, "simulate"), payload["samples"], payload["T"], payload["seed"])
    counter, out, batch = Counter(g), [], payload["batch"]
    for i in range(payload["lo"], payload["hi"], batch):
        xb = x[i:min(i + batch, payload["hi"])]
        _zero(counter)
        res = run(g, xb, timing=payload["timing"], threshold=None, dt=payload["dt"], observer=counter.observe,
                  conv=payload["conv"], readout=payload.get("readout", "unshifted"))
        counter.add_run(xb, res)
        out.append({"counts": _contribution(counter), "outside": dict(res.extras.get("outside_events", {})),
                    "hits": batch_hits(g, res.output, None if y is None else y[i:i + len(xb)])})
    return out


def add_contribution(counter: Any, c: dict, outside: dict) -> None:
    """Add one batch's contribution the way Counter.observe / add_run (and, for the events a pipeline
    readout drops, snnc.simulate_session.counted_run) add it."""
    for name, events in outside.items():
        counter.outside_events = getattr(counter, "outside_events", {})
        counter.outside_events[name] = counter.outside_events.get(name, 0) + events
    for name, (events, nonzero, sop, mac, frames, binary) in c["synapses"].items():
        s = counter.synapses[name]
        s.events += events
        s.nonzero += nonzero
        s.sop += sop
        s.mac += mac
        s.frames += frames
        s.binary = s.binary and binary
    for name, (spikes, per_step) in c["layers"].items():
        lay = counter.layers[name]
        lay.per_step = per_step if lay.per_step.size == 0 else lay.per_step + per_step
        lay.spikes += spikes
    samples, T, events, nonzero, elements = c["input"]
    counter.samples += samples
    counter.T = T
    counter.input_events += events
    counter.input_nonzero += nonzero
    counter.input_elements += elements


@dataclass
class ShardedCounts:
    """A drop-in for :func:`snnc.simulate_session.counted_run` that runs the shards as work units."""

    source: str
    convention: str | None
    baseline: str | None
    data: str
    samples: int
    seed: int
    executor: str = "ray"
    address: str | None = None
    workers: int | None = None
    shards: int | None = None

    def __call__(self, what: str, g: Any, x: Any, y: Any, *, T: int, timing: str, batch: int, dt: float | None,
                 conv: str, progress: Any = None, readout: str = "unshifted") -> tuple[Any, int | None]:
        import os

        import torch

        from snnc.compiler.analysis.counts import Counter
        from snnc.executors.run import run_units

        base = {"what": what, "source": self.source, "convention": self.convention, "baseline": self.baseline,
                "data": self.data, "samples": self.samples, "seed": self.seed, "T": int(T), "timing": timing,
                "batch": int(batch), "dt": dt, "conv": conv, "threads": torch.get_num_threads(), "readout": readout}
        shards = self.shards or self.workers or os.cpu_count() or 1
        units = [Unit(f"{what} samples [{lo}:{hi})", {**base, "lo": lo, "hi": hi})
                 for lo, hi in shard_bounds(len(x), batch, shards)]
        parts, _ = run_units(units, count_shard, executor=self.executor, address=self.address,
                             workers=self.workers, title=what)
        counter, hits, first = Counter(g), None, True
        for part in parts:
            for b in part:
                add_contribution(counter, b["counts"], b["outside"])
                hits = b["hits"] if first else (None if hits is None or b["hits"] is None else hits + b["hits"])
                first = False
        return counter, hits
