"""Compile benchmark at the paper's size: ``snnc compile --target lava`` of the ASA LIF-SNN-3 (2×32×32 input,
widths 64/128/128, FC 256, T = 60), default calibration (64) and hold-out (64) sizes and data (``synthetic``),
new path against the old one (commit 4aab6c4, before the speed-ups) in the same run.

Models, each compiled by both paths:

* ``untrained, ~10 %``: seeded (``torch.manual_seed(0)``), rate-scaled to ~10 % per layer on synthetic frames
  (``snnc.models.activity.scale_to_rate``). Dense: 35–46 % of conv2/conv3's inputs are non-zero.
* ``untrained, ~3 %``: the same, rate-scaled to 3 %, the firing of the trained paper-size ASA (NASFR
  0.030 ± 0.008 over 3 seeds, docs/results/paper).
* ``trained (seed 0)``: the checkpoint ``snnc experiment --size paper --data synthetic-hard`` trained,
  ``build/experiment-paper/seed0/asa/model.pt`` or ``$SNNC_BENCH_TRAINED_ASA``; left out when absent (say so).

Each path compiles in its own subprocess with torch's default threads (all cores, as ``snnc compile`` runs):
the new one from this checkout, the old one from ``git archive 4aab6c4`` unpacked into a temporary directory and
assembled into the ``snnc`` package layout of setup.py (``snnc`` -> snnc/, ``snnc.compiler`` -> compiler/, ...)
on PYTHONPATH, which precedes the editable install's finder. Reported: seconds per pass, the hold-out fidelity
and artifact writing (the rest), the total; whether both wrote the same graph.nir (sha256) and the same
snnc-timing fidelity; the Lava-timing accuracy of each (the old path reads it unshifted, the new one with the
pipeline-aware readout, docs/design.md §3.4). The new path's float runs convolve event-driven where sparse
(``--float-conv auto``, the default), so on sparse models its calibrated gains may differ from the old
path's in the last bits: the graph comparison then names the fields that differ.

Standalone: ``python bench/bench_compile_paper.py [--quick]``; ``--child CKPT OUT`` is the subprocess entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "4aab6c4"
ROOTS = {"compiler": "compiler", "frontends": "frontends", "backends": "backends", "models": "models"}


def paper_checkpoint(path: Path, T: int, rate: float = 0.1) -> Path:
    """The seeded paper-size ASA LIF-SNN-3 rate-scaled to ``rate`` (module docstring) at ``path``."""
    import torch

    from snnc.data import load_dataset
    from snnc.models import build_model
    from snnc.models.activity import scale_to_rate
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    config = {**demo_config("asa"), "T": T, "widths": [64, 128, 128], "fc_hidden": 256}
    torch.manual_seed(0)
    model = build_model(config).eval()
    x, _ = load_dataset("synthetic", "train", 4, T, 0)
    scale_to_rate(model, torch.as_tensor(x), target=rate, iters=12)
    return save_checkpoint(path, model, hparams={"seed": 0, "note": "untrained, rate-scaled (benchmark)"},
                           train_meta={"dataset": "synthetic", "samples": 0})


def old_tree(workdir: Path) -> Path:
    """``git archive OLD_COMMIT`` unpacked under ``workdir``; returns the directory to put on PYTHONPATH."""
    src, pkg = workdir / "src", workdir / "pkg"
    src.mkdir(parents=True)
    tar = workdir / "old.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(tar), OLD_COMMIT], check=True)
    with tarfile.open(tar) as t:
        t.extractall(src, filter="data")
    (pkg / "snnc").mkdir(parents=True)
    for item in (src / "snnc").iterdir():
        os.symlink(item, pkg / "snnc" / item.name)
    for name, folder in ROOTS.items():
        os.symlink(src / folder, pkg / "snnc" / name)
    return pkg


def _time_holdout_runs() -> dict[str, float]:
    """Wrap ``fidelity.measure_timings`` (when this tree has it) so that its interpreter calls are timed:
    seconds in the reference graph's runs and in the compiled graph's, filled in as the compile runs."""
    from snnc.compiler import fidelity

    spent = {"reference": 0.0, "compiled": 0.0}
    measure = getattr(fidelity, "measure_timings", None)
    if measure is None:
        return spent

    def timed(reference, compiled, *args, run, **kwargs):
        def clocked(graph, *a, **kw):
            t = time.perf_counter()
            try:
                return run(graph, *a, **kw)
            finally:
                spent["reference" if graph is reference else "compiled"] += time.perf_counter() - t
        return measure(reference, compiled, *args, run=clocked, **kwargs)

    fidelity.measure_timings = timed
    return spent


def child(ckpt: str, out: str, calibrate: int, holdout: int, float_conv: str | None = None) -> dict:
    """Compile ``ckpt`` for Lava in this process; per-pass seconds, total, fidelity, sha256 of graph.nir."""
    import torch

    import importlib

    from snnc.compile_model import CompileOptions, compile_model

    for kernel in ("lif_loop", "event_conv", "loihi_loop"):  # build/load the C++ kernels outside the timing
        try:
            importlib.import_module(f"snnc.backends.cpu.{kernel}").extension()
        except ImportError:  # the old tree has no such kernel
            pass
    spent = _time_holdout_runs()
    t0 = time.perf_counter()
    extra = {} if float_conv is None else {"float_conv": float_conv}  # the old tree has no such option
    report = compile_model(ckpt, out, CompileOptions(target="lava", calibrate=calibrate, holdout=holdout, **extra))
    total = time.perf_counter() - t0
    passes = {r["name"]: float(r["seconds"]) for r in report["passes"]}
    fid = report.get("fidelity") or {}
    lava = fid.get("lava_timing") or {}
    return {"total": total, "passes": passes, "rest": total - sum(passes.values()),
            "sha256": hashlib.sha256((Path(out) / "graph.nir").read_bytes()).hexdigest(),
            "accuracy_ref": fid.get("accuracy_ref"), "accuracy": fid.get("accuracy"),
            "snnc_layers": fid.get("layers"), "lava_accuracy": lava.get("accuracy"),
            "lava_readout": lava.get("readout", "unshifted"), "module": __import__("snnc").__file__,
            "threads": torch.get_num_threads(),
            "holdout_runs": {k: v for k, v in spent.items() if k.startswith(("reference", "compiled"))}}


def _run_child(ckpt: Path, out: Path, calibrate: int, holdout: int, pythonpath: Path | None, cwd: Path,
               float_conv: str | None = None) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(os.cpu_count() or 1)}
    if pythonpath is not None:  # the old tree: its own kernel cache (same extension names, other sources)
        env["PYTHONPATH"] = str(pythonpath)
        env["TORCH_EXTENSIONS_DIR"] = str(Path(pythonpath).parent / "torch_extensions")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(ckpt), str(out), str(calibrate), str(holdout),
           *([float_conv] if float_conv else [])]
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def graph_differences(a: Path, b: Path) -> list[str]:
    """The array fields (node/field/..., max |difference|, entries) where graph.nir files ``a`` and ``b`` differ."""
    import numpy as np
    import nir

    found: list[str] = []

    def walk(x, y, where: str) -> None:
        if isinstance(x, dict):
            for k in x:
                walk(x[k], y.get(k) if isinstance(y, dict) else None, f"{where}/{k}")
        elif isinstance(x, np.ndarray):
            y = np.asarray(y)
            if x.shape != y.shape:
                found.append(f"{where} (shape {list(x.shape)} vs {list(y.shape)})")
            elif not np.array_equal(x, y):
                found.append(f"{where} ({int(np.sum(x != y))} of {x.size} entries, max |diff| "
                             f"{float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))):.3g})")
        elif isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
            for k, (u, v) in enumerate(zip(x, y)):
                walk(u, v, f"{where}[{k}]")
        elif x != y:
            found.append(f"{where} ({x!r} vs {y!r})")

    ga, gb = nir.read(str(a)), nir.read(str(b))
    walk(ga.metadata or {}, gb.metadata or {}, "metadata")
    for name, node in ga.nodes.items():
        walk(vars(node), vars(gb.nodes[name]) if name in gb.nodes else {}, name)
    return found


def _models(d: Path, T: int, quick: bool) -> list[tuple[str, Path]]:
    """(label, checkpoint) of each benchmarked model (module docstring)."""
    models = [("untrained, ~10 %", paper_checkpoint(d / "paper-asa-10.pt", T, 0.1)),
              ("untrained, ~3 %", paper_checkpoint(d / "paper-asa-3.pt", T, 0.03))]
    trained = Path(os.environ.get("SNNC_BENCH_TRAINED_ASA", REPO / "build/experiment-paper/seed0/asa/model.pt"))
    if not quick and trained.is_file():
        models.append(("trained (seed 0)", trained))
    return models


def section(quick: bool = False) -> str:
    T, calibrate, holdout = (8, 8, 8) if quick else (60, 64, 64)
    runs: list[tuple[str, dict, dict, list[str]]] = []
    with tempfile.TemporaryDirectory(prefix="snnc-bench-compile-") as d:
        d = Path(d)
        pkg = old_tree(d / "old")
        for k, (label, ckpt) in enumerate(_models(d, T, quick)):
            print(f"[bench_compile_paper] {label}: old path ...", file=sys.stderr, flush=True)
            old = _run_child(ckpt, d / f"out-old-{k}", calibrate, holdout, pkg, d)
            print(f"[bench_compile_paper] {label}: new path ...", file=sys.stderr, flush=True)
            new = _run_child(ckpt, d / f"out-new-{k}", calibrate, holdout, None, REPO)
            print(f"[bench_compile_paper] {label}: new path, --float-conv dense ...", file=sys.stderr, flush=True)
            new["dense"] = _run_child(ckpt, d / f"out-dense-{k}", calibrate, holdout, None, REPO, "dense")
            if not old["module"].startswith(str(d)) or new["module"].startswith(str(d)):
                raise RuntimeError(f"the subprocesses imported the wrong trees: {old['module']}, {new['module']}")
            diff = [] if old["sha256"] == new["sha256"] else graph_differences(d / f"out-old-{k}" / "graph.nir",
                                                                                d / f"out-new-{k}" / "graph.nir")
            runs.append((label, old, new, diff))
    names = list(runs[0][2]["passes"])

    def cells(pick) -> str:
        return " | ".join(f"{pick(old)} | {pick(new)}" for _, old, new, _ in runs)

    def seconds(value) -> str:
        return "—" if value is None else f"{value:.1f}"

    rows = [f"| {n} | {cells(lambda r, n=n: seconds(r['passes'].get(n)))} |" for n in names]
    rows.append(f"| hold-out fidelity + artifact | {cells(lambda r: seconds(r['rest']))} |")
    for label in runs[0][2]["holdout_runs"]:
        rows.append(f"| &nbsp;&nbsp;of which: hold-out {label} runs | "
                    f"{cells(lambda r, lb=label: seconds(r['holdout_runs'].get(lb)))} |")
    rows.append(f"| **total** | {cells(lambda r: '**' + seconds(r['total']) + '**')} |")
    notes = []
    for label, old, new, diff in runs:
        same_fid = old["snnc_layers"] == new["snnc_layers"] and old["accuracy"] == new["accuracy"]
        notes.append(
            f"- **{label}**: speed-up {old['total'] / new['total']:.2f}x, new total {new['total']:.1f} s "
            f"({'under' if new['total'] < 30 else 'not under'} 30 s; with `--float-conv dense` "
            f"{new['dense']['total']:.1f} s, same graph.nir as old: "
            f"{'yes' if new['dense']['sha256'] == old['sha256'] else 'no'}); same graph.nir: "
            + ("yes" if not diff else "no: " + "; ".join(diff[:4]) + (f"; {len(diff) - 4} more" if len(diff) > 4 else ""))
            + f"; same snnc-timing fidelity: {'yes' if same_fid else 'no'}; held-out accuracy: reference "
            f"{new['accuracy_ref']}, compiled {new['accuracy']}, Lava timing: old ({old['lava_readout']} readout) "
            f"{old['lava_accuracy']}, new ({new['lava_readout']} readout) {new['lava_accuracy']}")
    head = " | ".join(f"{label}: old (s) | new (s)" for label, *_ in runs)
    return "\n".join([
        f"## Compile at the paper size (ASA LIF-SNN-3, 64/128/128, T = {T}, --target lava)", "",
        f"`snnc compile --target lava`, calibration {calibrate} and hold-out {holdout} samples (the defaults"
        + (", quick run: smaller" if quick else "") + f"), data `synthetic` (the default), {runs[0][2]['threads']} "
        f"torch threads. Old = commit {OLD_COMMIT} (before the speed-ups), run in the same benchmark on the same "
        "checkpoints: an untrained seeded model rate-scaled to ~10 % firing, the same at ~3 % (the trained "
        "paper-size ASA's NASFR), and the trained seed-0 checkpoint of the paper-size experiment when present.", "",
        f"| step | {head} |", "|---|" + "---:|" * (2 * len(runs)), *rows, "", *notes,
        "- what changed: quantize probes every population in one run of the float graph (was one sub-graph run "
        "per probed node); the Lava-timing fidelity of a single-depth graph reuses the snnc-timing run (the "
        "pipeline-aware readout equals it exactly); the exact reference runs once; fuse_asa_gains probes each "
        "attention layer from the previous layer's stored currents; the fixed-point hold-out run does its convs in "
        "float32 where that is provably exact (every partial sum an integer below 2^24; event-driven where the "
        "frames are sparse) and its LoihiLIF neurons in one C++ loop over all steps (the same integers); "
        "quantize reduces each probe per channel (the same maxima); the float runs (calibration, probes, "
        "reference) convolve event-driven where at most 30 % of a conv's inputs are non-zero (`--float-conv "
        "auto`, float32 sums in another order than PyTorch's; `--float-conv dense` keeps PyTorch's conv); "
        "fuse_asa_gains sums ASA's factor over samples from the mask and the two spatial maps in one C++ pass "
        "(the same float64 sums, without the full-size factor), and the exact ASA runs on the fused training "
        "kernels' forward (the same bits); the float32 twin's casts check the premise on the way (one pass each "
        "way); the Lava-timing agreement reuses the snnc-timing sums when it reuses the run; LoihiLIF blocks whose "
        "inputs are too small for any wrap run in AVX2 doubles (the same integers).", ""])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), *sys.argv[6:7])))
    else:
        print(section(quick="--quick" in sys.argv))
