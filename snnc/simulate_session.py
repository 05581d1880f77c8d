"""One ``snnc simulate`` run as a library call: load, get data, run in batches, count, summarise.

``simulate(source, ...)`` returns a plain dict (JSON-ready) with per-layer activity, accuracy when the
labels are known, and, with ``energy=True``, the energy report of :mod:`snnc.compiler.analysis.energy`
(counts always come from the CPU reference simulator; another ``backend`` supplies the spikes and
accuracy it reports). ``timing=None`` follows the backend (``"lava"`` on Lava, else ``"snnc"``);
``compare="cpu"`` also runs the CPU reference on the same inputs and timing and reports, per spiking
layer, how many (sample, step, neuron) spikes differ (:func:`agreement`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import nir

from snnc.data.stream import Frames
from snnc.errors import SnncError
from snnc.simulate_inputs import _check_data, graph_meta, load_any, load_data
PIPELINE_BACKENDS = ("cpu", "lava", "loihi2")  # backends with the pipeline-aware readout under Lava timing


def accuracy(g: nir.NIRGraph, outputs: np.ndarray, labels: np.ndarray | None) -> float | None:
    from snnc.compiler.fidelity import readout_rates

    if labels is None:
        return None
    rates = readout_rates(g, outputs)
    if rates.shape[1] <= int(np.max(labels)):
        return None
    return float(np.mean(rates.argmax(axis=1) == labels))


def default_timing(backend: str) -> str:
    """The timing a backend runs with unless told otherwise: Lava only knows its own (design.md §3.4)."""
    return "lava" if backend == "lava" else "snnc"


def agreement(rows: dict[str, dict], part: dict[str, dict]) -> dict[str, dict]:
    """Accumulate one batch's :func:`snnc.backends.lava.compare.compare_runs` rows into ``rows``."""
    for name, r in part.items():
        acc = rows.setdefault(name, {"node": name, "spikes_backend": 0.0, "spikes_cpu": 0.0, "differing": 0})
        acc["spikes_backend"] += r["spikes_a"]
        acc["spikes_cpu"] += r["spikes_b"]
        acc["differing"] += r["differing"]
        acc["identical"] = acc["differing"] == 0
        if "max_abs_dv" in r:
            acc["max_abs_dv"] = max(acc.get("max_abs_dv", 0.0), r["max_abs_dv"])
    return rows


def simulate(source: str, *, backend: str = "cpu", data: str = "synthetic", samples: int = 16, batch: int = 16,
             timing: str | None = None, compare: str | None = None, energy: bool = False, dt: float | None = None, baseline: str | None = None, steps: int | None = None,
             seed: int = 0, e_mac: float | None = None, e_ac: float | None = None,
             progress: Callable[[str, int, int], None] | None = None, conv: str | None = None,
             convention: str | None = None, run_counts: Callable | None = None, readout: str | None = None) -> dict:
    """The full ``snnc simulate`` computation (module docstring). ``readout`` (Lava timing only): ``"pipeline"``
    (default where the backend has it: cpu, lava) or ``"unshifted"`` (docs/design.md §3.4). ``run_counts``: replaces the
    counting runs (``(what, g, x, y, T=, timing=, batch=, dt=, conv=, progress=) -> (counter, hits)``;
    snnc.executors.simulate_shards runs them in shards on Ray)."""
    if run_counts is None:
        def run_counts(what, g, x, y, T, **kw):
            return counted_run(g, x, y, **kw)
    from snnc.compiler.analysis.energy import E_AC_PJ, E_MAC_PJ, Constants, compare_to_baseline, energy_report
    from snnc.backends.registry import get_backend
    from snnc.compiler.analysis.memory import require_simulation

    if samples < 1:
        raise SnncError(f"--samples: must be at least 1, got {samples}")
    if batch < 1:
        raise SnncError(f"--batch: must be at least 1, got {batch}")
    if dt is not None and not dt > 0:
        raise SnncError(f"--dt: must be > 0, got {dt}")
    timing = timing or default_timing(backend)
    if timing not in ("snnc", "lava"):
        raise SnncError(f"--timing: must be 'snnc' or 'lava', got {timing!r}")
    readout = choose_readout(backend, timing, readout)
    if compare not in (None, "cpu"):
        raise SnncError(f"--compare: only 'cpu' (the reference simulator) is supported, got {compare!r}")
    if compare and backend == "cpu":
        raise SnncError("--compare cpu: the backend is already cpu; choose another --backend")
    k = Constants(E_MAC_PJ if e_mac is None else float(e_mac), E_AC_PJ if e_ac is None else float(e_ac))
    if k.e_mac < 0 or k.e_ac < 0:
        raise SnncError("--e-mac/--e-ac: energies must be >= 0")
    mod = get_backend(backend)
    g = load_any(source, convention=convention)
    if backend != "cpu":
        from snnc.frontends.conventions import refuse_cpu_only_semantics

        refuse_cpu_only_semantics(g, f"--backend {backend}")
    T = _steps(g, steps, data, source, dt)
    require_simulation(g, T, min(batch, samples), f"--steps {steps}" if steps else source)
    x, y, desc = load_data(data, g, samples, T, seed)
    _check_data(x, g, data)
    piped = {"readout": readout} if readout else {}
    counter, hits = run_counts("simulate", g, x, y, T=T, timing=timing, batch=batch, dt=dt, conv=conv,
                                progress=None if progress is None else _tick(progress, "simulate", len(x)), **piped)
    rows: dict[str, dict] = {}
    hits_cpu = hits
    if backend != "cpu":
        hits = _backend_run(mod, g, x, y, rows, timing=timing, batch=batch, dt=dt, compare=compare, readout=readout)
    result = {
        "source": source, "backend": backend, "counts_from": "cpu", "timing": timing, **piped, "data": desc, "samples": int(len(x)), "T": T,
        "numerics": graph_meta(g).get("numerics", "float"),
        "layers": [{"name": n, "neurons": lay.neurons, "spikes_per_sample": counter.per_sample(lay.spikes),
                    "lasfr": counter.lasfr(n), "lsfr": counter.lsfr(n)} for n, lay in counter.layers.items()],
        "nasfr": counter.nasfr(), "input_rate": counter.input_rate(),
        "accuracy": _accuracy(hits, len(x)),
    }
    if backend != "cpu":  # the cpu reference on the same samples, timing and readout
        result["accuracy_cpu"] = _accuracy(hits_cpu, len(x))
    if compare:
        result["compare"] = {"against": compare, "identical": all(r["identical"] for r in rows.values()),
                             "layers": list(rows.values())}
    if energy or baseline:
        result["energy"] = energy_report(g, counter, k, padding=padding_of(g, readout, counter))
    if baseline:
        gb, aligned = _baseline_graph(source, baseline)
        _check_data(x, gb, "baseline input")
        cb, hits_b = run_counts("baseline", gb, x, y, T=T, timing=timing, batch=batch, dt=dt, conv=conv,
                                 progress=None if progress is None else _tick(progress, "baseline", len(x)), **piped)
        base = energy_report(gb, cb, k, padding=padding_of(gb, readout, cb))
        result["baseline"] = {"source": baseline, "compiled_with": aligned, "energy": base, "nasfr": cb.nasfr(), "accuracy": _accuracy(hits_b, len(x)),
                              "layers": [{"name": n, "lasfr": cb.lasfr(n)} for n in cb.layers]}
        result["comparison"] = compare_to_baseline(result["energy"], base, k)
    return result


def batch_hits(g: nir.NIRGraph, output: np.ndarray, labels: np.ndarray | None) -> int | None:
    """Correctly classified samples of one batch (None without labels, or labels beyond the readout)."""
    from snnc.compiler.fidelity import readout_rates

    if labels is None or len(labels) == 0:
        return None
    rates = readout_rates(g, np.asarray(output))
    if rates.shape[1] <= int(np.max(labels)):
        return None
    return int(np.sum(rates.argmax(axis=1) == labels))


def _add_hits(total: int | None, part: int | None, first: bool) -> int | None:
    return part if first else (None if total is None or part is None else total + part)


def _accuracy(hits: int | None, n: int) -> float | None:
    return None if hits is None or n == 0 else float(hits / n)


def choose_readout(backend: str, timing: str, readout: str | None) -> str | None:
    """The readout of a run (None under snnc timing, which has no delay): ``"pipeline"`` by default where the
    backend has it (cpu, lava), else ``"unshifted"``; an explicit pipeline readout elsewhere is refused."""
    if readout not in (None, "pipeline", "unshifted"):
        raise SnncError(f"--readout: must be 'pipeline' or 'unshifted', got {readout!r}")
    if timing != "lava":
        return None
    if readout == "pipeline" and backend not in PIPELINE_BACKENDS:
        raise SnncError(f"--readout pipeline: the {backend} backend has no pipeline-aware readout "
                        f"(backends with one: {', '.join(PIPELINE_BACKENDS)}); use --readout unshifted")
    return readout or ("pipeline" if backend in PIPELINE_BACKENDS else "unshifted")


def padding_of(g: nir.NIRGraph, readout: str | None, counter) -> dict | None:
    """The pipeline padding for the energy report: D steps per sample, and input events dropped."""
    if readout != "pipeline":
        return None
    from snnc.compiler.ir.depth import pipeline_depth

    return {"steps": pipeline_depth(g), "dropped_input_events": getattr(counter, "outside_events", {})}


def counted_run(g: nir.NIRGraph, x: Frames, y: np.ndarray | None, *, timing: str, batch: int, dt: float | None,
                conv: str, progress=None, readout: str | None = None):
    """(counter, correct predictions or None): the cpu simulator over x batch by batch with counting;
    only per-layer counts are kept, so memory does not grow with the number of samples."""
    from snnc.compiler.analysis.counts import Counter
    from snnc.backends.cpu.simulator import run

    counter, hits = Counter(g), None
    for i, xb in x.batches(batch):
        res = run(g, xb, timing=timing, threshold=None, dt=dt, observer=counter.observe, conv=conv,
                  readout=readout or "unshifted")
        for name, events in res.extras.get("outside_events", {}).items():  # pipeline: dropped at rest
            counter.outside_events = getattr(counter, "outside_events", {})
            counter.outside_events[name] = counter.outside_events.get(name, 0) + events
        counter.add_run(xb, res)
        hits = _add_hits(hits, batch_hits(g, res.output, None if y is None else y[i:i + len(xb)]), i == 0)
        if progress is not None:
            progress(len(xb))
    return counter, hits


def _backend_run(mod, g: nir.NIRGraph, x: Frames, y: np.ndarray | None, rows: dict, *, timing: str, batch: int,
                 dt: float | None, compare: str | None, readout: str | None = None) -> int | None:
    """Run another backend batch by batch; its correct predictions (and, with ``compare``, agreement rows)."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava.compare import compare_runs
    from snnc.compiler.ir.graph_utils import make_graph

    # backends take dt from the graph (design.md §5): give them --dt there, as the cpu run gets it
    gb = g if dt is None else make_graph(g.nodes, g.edges, {**(g.metadata or {}),
                                                             "snnc": {**graph_meta(g), "dt": float(dt)}})
    hits = None
    for i, xb in x.batches(batch):
        piped = {"readout": readout} if readout else {}
        res = mod.run(gb, xb, timing=timing, **piped, **({"record_voltage": True} if compare else {}))
        hits = _add_hits(hits, batch_hits(g, res.output, None if y is None else y[i:i + len(xb)]), i == 0)
        if compare:
            ref = cpu_run(g, xb, timing=timing, dt=dt, record_voltage=True, **piped)
            agreement(rows, compare_runs(res, ref))
    return hits


def _steps(g: nir.NIRGraph, steps: int | None, data: str, source: str, dt: float | None) -> int:
    """T of this run: --T/--steps, else the --data file's T (a disagreement is an error naming both),
    else the graph's, else 10; refuses first a graph whose neurons need a dt it does not carry."""
    from snnc.compile_data import check_steps_fit, is_array_file, resolve_T
    from snnc.compiler.timestep import require_dt

    require_dt(g, dt, where=source)
    T = resolve_T(g, steps, data)
    if T is None:
        from snnc.data.default_inputs import DEFAULT_T

        return DEFAULT_T
    check_steps_fit(g, T, f"--T {steps}" if steps else (f"--data {data}" if is_array_file(data) else source))
    return int(T)


def _baseline_graph(source: str, baseline: str) -> tuple[nir.NIRGraph, list[str] | None]:
    """The baseline graph, made comparable with ``source``: when ``source`` is a compiled artifact
    and the baseline is not, the baseline is compiled in memory with the artifact's own passes and
    options (BN folded, pools fused, same numerics), so Eqs. S3–S4 compare layers of the same
    structure (a fused 4×4/s2 conv has fewer FLOPs than its 3×3 conv + pool). Returns the graph and
    the passes applied (None when used as given)."""
    from snnc.compile_model import options_from_manifest

    gb = load_any(baseline, "--baseline")
    if not Path(source).is_dir() or Path(baseline).is_dir():
        return gb, None
    opts = options_from_manifest(source)
    if opts is None:
        return gb, None
    from snnc.compile_model import compile_graph, interpreter

    opts.holdout = 0
    compiled, _ = compile_graph(gb, opts, run=interpreter(opts))
    return compiled, opts.pass_names()


def _tick(progress, what: str, total: int):
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        progress(what, done[0], total)

    return step
