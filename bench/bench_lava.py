"""Lava 0.10.0 (CPU simulator) vs the snnc CPU reference simulator on the demo model.

    .venv/bin/python bench/run_all.py --only lava        (or: .venv/bin/python bench/bench_lava.py [--quick])

Setup: the demo LIF-SNN-3 with ASA (``snnc.models.registry.demo_config("asa")``: 2×32×32, widths
8/16/16, FC 64 → 8, T = 8), random init rescaled so every layer fires ~10 %
(``snnc.models.activity.scale_to_rate``), compiled by the real lava pipeline
(``select_passes("lava")``: fold BN, fuse pooling, ASA → TimeGain, and ``quantize`` for fixed point)
with 16 synthetic calibration samples; inputs: synthetic DVS-gesture test samples. Timed, same
process, same inputs: ``snnc.backends.lava.run`` (build + compile + run, and the stepping alone) in
floating_pt and fixed_pt, and ``snnc.backends.cpu.run(timing="lava")`` on the same compiled
graph; the spike trains of both are compared (fixed point must be identical).
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings

import numpy as np

from snnc.backends.cpu import run as cpu_run


def _demo_graphs(n_calib: int = 16):
    import torch

    from snnc.models.activity import scale_to_rate
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.data import load_dataset
    from snnc.frontends import model_to_graph
    from snnc.models import build_model
    from snnc.models.registry import demo_config

    cfg = demo_config("asa")
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    calib, _ = load_dataset("synthetic", "train", n_calib, cfg["T"], 0)
    scale_to_rate(model, torch.as_tensor(calib[:2]), target=0.1, iters=10)
    graph = model_to_graph(model)
    out = {}
    for fixed in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = select_passes("lava", fixed_point=fixed)
            g, _ = run_pipeline(graph, names, pipeline_options("lava", names, quantize={"clip_weights": False}),
                                context=PipelineContext(run=cpu_run, calibration=calib))
        out["fixed" if fixed else "float"] = g
    return cfg, out


def _timed(fn, reps: int):
    """(median seconds, last result, all results)."""
    times, results = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        results.append(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), results[-1], results


def section(quick: bool = False) -> str:
    import torch

    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run as lava_run
    from snnc.data import load_dataset

    torch.set_num_threads(1)
    from snnc.backends.lava import compat

    compat.install()
    import lava.magma.compiler.compiler  # noqa: F401  (Lava's ~1 s import, outside the timings)

    n = 2 if quick else 8
    reps = 1 if quick else 3
    cfg, graphs = _demo_graphs()
    x, _ = load_dataset("synthetic", "test", n, cfg["T"], 1)
    rows = []
    for mode, g in graphs.items():
        t_lava, res, runs = _timed(lambda: lava_run(g, x), reps)
        t_cpu, ref, _ = _timed(lambda: cpu_run(g, x, timing="lava"), reps)
        t_build = statistics.median(r.extras["build_seconds"] for r in runs)
        t_step = statistics.median(r.extras["run_seconds"] for r in runs)
        diff = sum(int((res.spikes[k] != ref.spikes[k]).sum()) for k in ref.spikes)
        total = sum(int(ref.spikes[k].sum()) for k in ref.spikes)
        steps = res.extras["steps"]
        rows.append((mode, t_lava, t_build, t_step, steps, steps / t_step, t_cpu, t_lava / t_cpu, res.extras["processes"], diff, total))
        print(f"[bench_lava] {mode}: lava {t_lava:.2f} s, cpu {t_cpu:.3f} s", file=sys.stderr, flush=True)
    neurons = sum(int(np.prod(s.shape[2:])) for s in res.spikes.values())
    lines = [
        "## Lava backend vs CPU reference simulator (demo model)",
        "",
        f"Demo LIF-SNN-3 + ASA (widths {cfg['widths']}, T = {cfg['T']}, {neurons} neurons in "
        f"{len(res.spikes)} spiking layers), compiled with `select_passes('lava')`; {n} synthetic samples run as one "
        f"Lava run of N·(T + pad) steps; medians of {reps} (each column separately; the total also holds "
        f"lowering and process shutdown); torch 1 thread. `bench/bench_lava.py`.",
        "",
        "| numerics | Lava total (s) | build+compile (s) | stepping (s) | steps | steps/s | CPU sim, lava timing (s) "
        "| CPU speed-up | Lava processes | differing spikes / total |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode, tl, tb, tr, steps, sps, tc, su, procs, diff, total in rows:
        lines.append(f"| {mode} | {tl:.2f} | {tb:.2f} | {tr:.2f} | {steps} | {sps:.0f} | {tc:.3f} | {su:.0f}× | "
                     f"{procs} | {diff} / {total} |")
    lines += ["", "Lava runs one OS process per Lava process (2 cores here), so its time is dominated by the "
              "process start-up and per-step message passing; the CPU simulator processes whole windows per layer."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(section(quick="--quick" in sys.argv))
