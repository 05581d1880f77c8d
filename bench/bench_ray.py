"""``--executor ray`` against ``--executor local`` on the demo-size experiment (issue 17).

The same `snnc experiment` command (4 variants: vanilla, TA, CA, ASA at the demo size, fewer
epochs and samples than the default so it runs in minutes) is run as a fresh process with
``--executor local`` and with ``--executor ray --workers 2``, alternately, in the same sitting;
every run starts from an empty --out folder. Wall time is the whole process (imports, data, Ray's
start-up and shutdown included); the Ray start-up and the sum of the units' own times come from the
executor's final line. The result.json files of the two executors are compared byte for byte.
Every unit uses 1 torch thread (OMP_NUM_THREADS=1) in both executors. On 2 cores the most a
2-worker run can gain is 2x, minus Ray's start-up.

    .venv/bin/python bench/run_all.py --only bench_ray [--quick]
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNNC = str(Path(sys.executable).with_name("snnc"))
FULL = ("--epochs", "2", "--train-samples", "200", "--test-samples", "100", "--calibrate", "16",
        "--variants", "ta,ca,asa")
QUICK = ("--epochs", "1", "--train-samples", "24", "--test-samples", "12", "--calibrate", "4", "--variants", "asa")
LINE = re.compile(r"(\d+) units computed .* in ([\d.]+) s wall(?:, Ray start-up ([\d.]+) s)?; "
                  r"sum of unit times ([\d.]+) s")


def _run(executor: str, args: tuple[str, ...], root: Path, tag: str) -> dict:
    out = root / tag
    cmd = [SNNC, "experiment", *args, "--out", str(out), "--doc", str(root / f"{tag}.md")]
    if executor == "ray":
        cmd += ["--executor", "ray", "--workers", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=7200)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip().splitlines()[-1:]}")
    m = LINE.search(proc.stderr)
    if m is None:
        raise RuntimeError(f"no executor line in the output of {' '.join(cmd)}")
    results = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("result.json"))}
    return {"wall": wall, "units": int(m.group(1)), "executor_wall": float(m.group(2)),
            "startup": float(m.group(3) or 0.0), "unit_sum": float(m.group(4)), "results": results}


def section(quick: bool = False) -> str:
    args, reps = (QUICK, 1) if quick else (FULL, 2)
    root = Path(tempfile.mkdtemp(prefix="snnc-bench-ray-"))
    runs: dict[str, list[dict]] = {"local": [], "ray": []}
    load_before = os.getloadavg()
    try:
        for rep in range(reps):
            for executor in ("local", "ray"):
                runs[executor].append(_run(executor, args, root, f"{executor}-{rep}"))
                print(f"[bench_ray] {executor} run {rep + 1}: {runs[executor][-1]['wall']:.1f} s", file=sys.stderr,
                      flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    identical = all(r["results"] == runs["local"][0]["results"] for ex in runs for r in runs[ex])
    med = {ex: statistics.median(r["wall"] for r in rs) for ex, rs in runs.items()}
    startup = statistics.median(r["startup"] for r in runs["ray"])
    units = runs["local"][0]["units"]
    lines = [
        "## Ray executor: the demo-size experiment, local against 2 Ray workers",
        "",
        f"`snnc experiment {' '.join(args)}` ({units} variants = {units} work units), one fresh process per run, "
        f"{reps} run(s) of each executor, alternating; median wall time of the whole process. "
        f"1 torch thread per unit (OMP_NUM_THREADS=1). Load average (1 min) {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after: the machine is shared, so the figures move with the other jobs.",
        "",
        "| executor | wall time (runs) | median | Σ unit times (median) | Ray start-up (in the wall time) |",
        "|---|---|---|---|---|",
    ]
    for ex, rs in runs.items():
        walls = ", ".join(f"{r['wall']:.1f}" for r in rs)
        lines.append(f"| {ex}{' --workers 2' if ex == 'ray' else ''} | {walls} s | {med[ex]:.1f} s | "
                     f"{statistics.median(r['unit_sum'] for r in rs):.1f} s | "
                     f"{'%.1f s' % startup if ex == 'ray' else '-'} |")
    lines += ["",
              f"Speed-up of ray over local (median walls): **{med['local'] / med['ray']:.2f}x** on 2 cores "
              f"(at most 2x). Ray's start-up (import, `ray.init`, first workers) costs {startup:.1f} s of it; "
              f"the result.json files of every run are {'byte-identical' if identical else 'NOT identical'} "
              "across the two executors.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ projection for docs/scaling.md
#: what a paper-size unit runs: `snnc experiment --size paper` defaults, and the released recipe (Gesture)
TARGETS = {"`--size paper` plan budget (8 epochs, 495 train / 220 test samples)": (8, 495, 220),
           "6 epochs, 800 train / 400 test samples (the demo defaults' counts)": (6, 800, 400),
           "released recipe (200 epochs, 1176 train / 288 test, DVS128 Gesture)": (200, 1176, 288)}


def flops_per_sample(config: dict) -> float:
    """Table S2 FL summed over the layers, times T (forward synaptic MACs of one sample)."""
    from snnc.compiler.analysis.flops import analyze, totals
    from snnc.frontends.torch_model import model_to_graph
    from snnc.models import build_model

    return float(totals(analyze(model_to_graph(build_model(config).eval())))["flops"]) * int(config["T"])


def measured_units(out: Path) -> dict[str, dict]:
    """variant -> measured seconds (training, the rest), its settings and FLOPs per sample, from an
    `snnc experiment` OUT folder (result.json + run.json of every variant)."""
    import json

    units = {}
    for path in sorted(out.glob("*/result.json")):
        r = json.loads(path.read_text())
        facts = json.loads((path.parent / "run.json").read_text())
        if facts["train"]["reused"]:
            raise ValueError(f"{path.parent}: its checkpoint was reused; measure on a fresh --out")
        units[r["variant"]] = {"train_s": facts["train"]["seconds"], "rest_s": facts["seconds"] - facts["train"]["seconds"],
                               "settings": r["settings"], "config": r["config"], "flops": flops_per_sample(r["config"])}
    return units


def paper_config(config: dict) -> dict:
    """The same variant at the released size (64/128/128, FC 256, T = 60)."""
    from snnc.models.lif_snn3 import DEFAULTS

    keep = ("attention", "squeeze", "excitation", "reduction", "num_classes", "input_size", "in_channels")
    return {**DEFAULTS, **{k: config[k] for k in keep if k in config}, "T": 60}


def unit_seconds(m: dict, target: tuple[int, int, int], flops_target: float) -> float:
    """Measured unit scaled to ``target`` (epochs, train, test): training by epochs × samples × FLOPs,
    the rest (compile, calibration, three simulations) by test samples × FLOPs."""
    epochs, n_train, n_test = target
    s, scale = m["settings"], flops_target / m["flops"]
    train = m["train_s"] * (epochs * n_train) / (s["epochs"] * s["train_samples"]) * scale
    return train + m["rest_s"] * n_test / s["test_samples"] * scale


def makespan(times: list[float], workers: int) -> float:
    """Wall time of ``times`` on ``workers`` (longest unit first to the least loaded worker)."""
    load = [0.0] * workers
    for t in sorted(times, reverse=True):
        load[load.index(min(load))] += t
    return max(load)


def projection(out: Path, seeds: int = 3, workers=(1, 8, 64), startup_s: float = 15.0, variants: int = 12) -> str:
    """Wall time of ``variants`` x ``seeds`` paper-size units on each worker count. The units measured in
    ``out`` stand in for the variants that were not measured (vanilla for itself, the first attention
    variant for every other: the attention adds < 1 % to FL)."""
    units = measured_units(out)
    paper_flops = {v: flops_per_sample(paper_config(m["config"])) for v, m in units.items()}
    attention = next(v for v in units if v != "vanilla")
    stand_in = ["vanilla" if "vanilla" in units else attention] + [attention] * (variants - 1)
    any_m = units[attention]
    lines = [f"Measured in `{out}`: {', '.join(units)}; settings {any_m['settings']}; FLOPs per sample "
             f"(Table S2 FL x T) {any_m['flops']:.3g} measured, {paper_flops[attention]:.3g} at paper size; "
             "measured seconds " + ", ".join(f"{v} {m['train_s']:.1f} train + {m['rest_s']:.1f} rest"
                                             for v, m in units.items()) + ".",
             "", "| what | per unit | " + " | ".join(f"{w} worker{'s' if w > 1 else ''}" for w in workers) + " |",
             "|---|---|" + "---|" * len(workers)]
    for name, target in TARGETS.items():
        per = [unit_seconds(units[v], target, paper_flops[v]) for v in stand_in] * seeds
        cells = [_hours(makespan(per, w) + startup_s) for w in workers]
        lines.append(f"| {name} | {_hours(sorted(per)[len(per) // 2])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _hours(seconds: float) -> str:
    if seconds >= 48 * 3600:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


if __name__ == "__main__":
    if "--project" in sys.argv:
        print(projection(Path(sys.argv[sys.argv.index("--project") + 1])))
    else:
        print(section(quick="--quick" in sys.argv))
