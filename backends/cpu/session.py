"""One ``snnc simulate`` run as a library call: load, get data, run in batches, count, summarise.

``simulate(source, ...)`` returns a plain dict (JSON-ready) with per-layer activity, accuracy when the
labels are known, and, with ``energy=True``, the energy report of :mod:`snnc.backends.cpu.energy`
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

from snnc.errors import SnncError

SYNTHETIC_DENSITY = 0.1


def load_any(path: str, what: str = "ARTIFACT") -> nir.NIRGraph:
    """An artifact directory (graph.nir inside) or any file ``snnc.frontends.load_graph`` reads."""
    from snnc.frontends import load_graph

    p = Path(path)
    if not p.exists():
        raise SnncError(f"{path}: no such file or directory")
    if p.is_dir():
        if not (p / "graph.nir").is_file():
            raise SnncError(f"{path}: directory holds no graph.nir (not an `snnc compile` artifact)")
        p = p / "graph.nir"
    return load_graph(str(p))


def graph_meta(g: nir.NIRGraph) -> dict:
    return (g.metadata or {}).get("snnc") or {}


def input_shape(g: nir.NIRGraph) -> tuple[int, ...]:
    from snnc.compiler.ir.graph_utils import input_names
    from snnc.compiler.ir.shapes import infer_shapes, shape_of

    return tuple(shape_of(infer_shapes(g), input_names(g)[0], "output"))


def load_data(data: str, g: nir.NIRGraph, samples: int, T: int, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(frames [N, T, *in_shape], labels or None, description)."""
    shape = input_shape(g)
    if data == "synthetic":
        if shape == (2, 32, 32):
            from snnc.data import load_dataset

            x, y = load_dataset("synthetic", "test", samples, T, seed)
            return x.astype(np.float32), y, "synthetic DVS gestures (test split)"
        rng = np.random.default_rng(seed)
        x = (rng.random((samples, T, *shape)) < SYNTHETIC_DENSITY).astype(np.float32)
        return x, None, f"random binary events, density {SYNTHETIC_DENSITY} (graph input {list(shape)})"
    p = Path(data)
    if p.is_file() and p.suffix in (".npy", ".npz"):
        try:
            blob = np.load(p, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - any unreadable file is a user error
            raise SnncError(f"{data}: cannot read ({type(e).__name__}: {e})") from None
        if isinstance(blob, np.ndarray):
            x, y = blob, None
        else:
            if "x" not in blob:
                raise SnncError(f"{data}: an .npz needs an array 'x' (and optionally labels 'y')")
            x, y = blob["x"], (blob["y"] if "y" in blob else None)
        return x[:samples], (None if y is None else np.asarray(y)[:samples]), f"{data}"
    if p.is_dir():
        from snnc.data import load_dataset

        x, y = load_dataset(str(p), "test", samples, T, seed)
        return x.astype(np.float32), y, f"DVS128 Gesture folder {data} (test split)"
    raise SnncError(f"--data {data}: not 'synthetic', an .npy/.npz file or a dataset folder")


def _check_data(x: np.ndarray, g: nir.NIRGraph, data: str) -> None:
    shape = input_shape(g)
    if x.dtype.kind not in "biuf":
        raise SnncError(f"{data}: input dtype {x.dtype} is not numeric")
    if x.ndim != 2 + len(shape) or tuple(x.shape[2:]) != shape:
        raise SnncError(f"{data}: input shape {list(x.shape)} does not match [N, T, {', '.join(map(str, shape))}]")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise SnncError(f"{data}: input contains NaN or infinite values")


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
             progress: Callable[[str, int, int], None] | None = None, conv: str = "dense") -> dict:
    """The full ``snnc simulate`` computation (module docstring)."""
    from snnc.backends.cpu.counts import measure
    from snnc.backends.cpu.energy import E_AC_PJ, E_MAC_PJ, Constants, compare_to_baseline, energy_report
    from snnc.backends.registry import get_backend

    if samples < 1:
        raise SnncError(f"--samples: must be at least 1, got {samples}")
    if batch < 1:
        raise SnncError(f"--batch: must be at least 1, got {batch}")
    if dt is not None and not dt > 0:
        raise SnncError(f"--dt: must be > 0, got {dt}")
    timing = timing or default_timing(backend)
    if timing not in ("snnc", "lava"):
        raise SnncError(f"--timing: must be 'snnc' or 'lava', got {timing!r}")
    if compare not in (None, "cpu"):
        raise SnncError(f"--compare: only 'cpu' (the reference simulator) is supported, got {compare!r}")
    if compare and backend == "cpu":
        raise SnncError("--compare cpu: the backend is already cpu; choose another --backend")
    k = Constants(E_MAC_PJ if e_mac is None else float(e_mac), E_AC_PJ if e_ac is None else float(e_ac))
    if k.e_mac < 0 or k.e_ac < 0:
        raise SnncError("--e-mac/--e-ac: energies must be >= 0")
    mod = get_backend(backend)
    g = load_any(source)
    T = int(steps or graph_meta(g).get("T") or 10)
    x, y, desc = load_data(data, g, samples, T, seed)
    _check_data(x, g, data)
    counter, outputs = measure(g, x, timing=timing, batch=batch, dt=dt, conv=conv,
                               progress=None if progress is None else _tick(progress, "simulate", len(x)))
    rows: dict[str, dict] = {}
    if backend != "cpu":
        from snnc.backends.cpu import run as cpu_run
        from snnc.backends.lava.compare import compare_runs
        from snnc.compiler.ir.graph_utils import make_graph

        # backends take dt from the graph (design.md §5): give them --dt there, as the cpu run gets it
        gb = g if dt is None else make_graph(g.nodes, g.edges, {**(g.metadata or {}),
                                                                 "snnc": {**graph_meta(g), "dt": float(dt)}})
        outs = []
        for i in range(0, len(x), batch):
            res = mod.run(gb, x[i:i + batch], timing=timing, **({"record_voltage": True} if compare else {}))
            outs.append(np.asarray(res.output))
            if compare:
                ref = cpu_run(g, x[i:i + batch], timing=timing, dt=dt, record_voltage=True)
                agreement(rows, compare_runs(res, ref))
        outputs = np.concatenate(outs)
    result = {
        "source": source, "backend": backend, "counts_from": "cpu", "timing": timing, "data": desc, "samples": int(len(x)), "T": T,
        "numerics": graph_meta(g).get("numerics", "float"),
        "layers": [{"name": n, "neurons": lay.neurons, "spikes_per_sample": counter.per_sample(lay.spikes),
                    "lasfr": counter.lasfr(n), "lsfr": counter.lsfr(n)} for n, lay in counter.layers.items()],
        "nasfr": counter.nasfr(), "input_rate": counter.input_rate(),
        "accuracy": accuracy(g, outputs, y),
    }
    if compare:
        result["compare"] = {"against": compare, "identical": all(r["identical"] for r in rows.values()),
                             "layers": list(rows.values())}
    if energy or baseline:
        result["energy"] = energy_report(g, counter, k)
    if baseline:
        gb, aligned = _baseline_graph(source, baseline)
        _check_data(x, gb, "--baseline input")
        cb, ob = measure(gb, x, timing=timing, batch=batch, dt=dt, conv=conv,
                         progress=None if progress is None else _tick(progress, "baseline", len(x)))
        base = energy_report(gb, cb, k)
        result["baseline"] = {"source": baseline, "compiled_with": aligned, "energy": base, "nasfr": cb.nasfr(), "accuracy": accuracy(gb, ob, y),
                              "layers": [{"name": n, "lasfr": cb.lasfr(n)} for n in cb.layers]}
        result["comparison"] = compare_to_baseline(result["energy"], base, k)
    return result


def _baseline_graph(source: str, baseline: str) -> tuple[nir.NIRGraph, list[str] | None]:
    """The baseline graph, made comparable with ``source``: when ``source`` is a compiled artifact
    and the baseline is not, the baseline is compiled in memory with the artifact's own passes and
    options (BN folded, pools fused, same numerics), so Eqs. S3–S4 compare layers of the same
    structure (a fused 4×4/s2 conv has fewer FLOPs than its 3×3 conv + pool). Returns the graph and
    the passes applied (None when used as given)."""
    from snnc.compiler.artifact import options_from_manifest

    gb = load_any(baseline, "--baseline")
    if not Path(source).is_dir() or Path(baseline).is_dir():
        return gb, None
    opts = options_from_manifest(source)
    if opts is None:
        return gb, None
    from snnc.compiler.artifact import compile_graph

    opts.holdout = 0
    compiled, _ = compile_graph(gb, opts)
    return compiled, opts.pass_names()


def _tick(progress, what: str, total: int):
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        progress(what, done[0], total)

    return step
