"""Compile benchmark at the paper's size: ``snnc compile --target lava`` of the ASA LIF-SNN-3 (2×32×32 input,
widths 64/128/128, FC 256, T = 60), default calibration (64) and hold-out (64) sizes, new path against the
old one (commit 4aab6c4, before the speed-ups) in the same run.

The model is untrained but firing: seeded (``torch.manual_seed(0)``) and rate-scaled to ~10 % per layer on
synthetic frames (``snnc.models.activity.scale_to_rate``), saved as a checkpoint. Each path compiles it in its
own subprocess with torch's default threads (all cores, as ``snnc compile`` runs): the new one from this checkout, the old one from ``git archive 4aab6c4``
unpacked into a temporary directory and assembled into the ``snnc`` package layout of setup.py (``snnc`` ->
snnc/, ``snnc.compiler`` -> compiler/, ...) on PYTHONPATH, which precedes the editable install's finder.
Reported: seconds per pass, the hold-out fidelity and artifact writing (the rest), the total; whether both
wrote the same graph.nir (sha256) and the same snnc-timing fidelity; the Lava-timing accuracy of each (the old
path reads it unshifted, the new one with the pipeline-aware readout, docs/design.md §3.4).

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


def paper_checkpoint(path: Path, T: int) -> Path:
    """The seeded, rate-scaled paper-size ASA LIF-SNN-3 (module docstring) at ``path``."""
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
    scale_to_rate(model, torch.as_tensor(x), target=0.1, iters=12)
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


def child(ckpt: str, out: str, calibrate: int, holdout: int) -> dict:
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
    report = compile_model(ckpt, out, CompileOptions(target="lava", calibrate=calibrate, holdout=holdout))
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


def _run_child(ckpt: Path, out: Path, calibrate: int, holdout: int, pythonpath: Path | None, cwd: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(os.cpu_count() or 1)}
    if pythonpath is not None:  # the old tree: its own kernel cache (same extension names, other sources)
        env["PYTHONPATH"] = str(pythonpath)
        env["TORCH_EXTENSIONS_DIR"] = str(Path(pythonpath).parent / "torch_extensions")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(ckpt), str(out), str(calibrate), str(holdout)]
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def section(quick: bool = False) -> str:
    T, calibrate, holdout = (8, 8, 8) if quick else (60, 64, 64)
    with tempfile.TemporaryDirectory(prefix="snnc-bench-compile-") as d:
        d = Path(d)
        ckpt = paper_checkpoint(d / "paper-asa.pt", T)
        pkg = old_tree(d / "old")
        print("[bench_compile_paper] old path ...", file=sys.stderr, flush=True)
        old = _run_child(ckpt, d / "out-old", calibrate, holdout, pkg, d)
        print("[bench_compile_paper] new path ...", file=sys.stderr, flush=True)
        new = _run_child(ckpt, d / "out-new", calibrate, holdout, None, REPO)
    if not old["module"].startswith(str(d)) or new["module"].startswith(str(d)):
        raise RuntimeError(f"the subprocesses imported the wrong trees: {old['module']}, {new['module']}")
    names = list(new["passes"])
    rows = [f"| {n} | {old['passes'].get(n, float('nan')):.1f} | {new['passes'][n]:.1f} |" for n in names]
    rows.append(f"| hold-out fidelity + artifact | {old['rest']:.1f} | {new['rest']:.1f} |")
    for label in new["holdout_runs"]:
        was = old["holdout_runs"].get(label)
        rows.append(f"| &nbsp;&nbsp;of which: hold-out {label} runs | {'—' if was is None else f'{was:.1f}'} | "
                    f"{new['holdout_runs'][label]:.1f} |")
    rows.append(f"| **total** | **{old['total']:.1f}** | **{new['total']:.1f}** |")
    same = old["sha256"] == new["sha256"]
    return "\n".join([
        f"## Compile at the paper size (ASA LIF-SNN-3, 64/128/128, T = {T}, --target lava)", "",
        f"`snnc compile --target lava`, calibration {calibrate} and hold-out {holdout} samples (the defaults"
        + (", quick run: smaller" if quick else "") + f"), {new['threads']} torch threads (old: {old['threads']}), "
        f"untrained seeded model rate-scaled to ~10 % firing. Old = commit {OLD_COMMIT} (before the speed-ups), run "
        "in the same benchmark.", "",
        "| step | old (s) | new (s) |", "|---|---:|---:|", *rows, "",
        f"- speed-up: {old['total'] / new['total']:.2f}x; same graph.nir: {'yes' if same else 'NO'} "
        f"(sha256 {new['sha256'][:12]}); same snnc-timing fidelity: "
        f"{'yes' if old['snnc_layers'] == new['snnc_layers'] and old['accuracy'] == new['accuracy'] else 'NO'}",
        f"- held-out accuracy (untrained model, for equality only): reference {new['accuracy_ref']}, compiled "
        f"{new['accuracy']}; Lava timing: old ({old['lava_readout']} readout) {old['lava_accuracy']}, new "
        f"({new['lava_readout']} readout) {new['lava_accuracy']}",
        "- what changed: quantize probes every population in one run of the float graph (was one sub-graph run "
        "per probed node); the Lava-timing fidelity of a single-depth graph reuses the snnc-timing run (the "
        "pipeline-aware readout equals it exactly); the exact reference runs once; fuse_asa_gains probes each "
        "attention layer from the previous layer's stored currents; the fixed-point hold-out run does its convs in "
        "float32 where that is provably exact (every partial sum an integer below 2^24; event-driven where the "
        "frames are sparse) and its LoihiLIF neurons in one C++ loop over all steps (the same integers); "
        "quantize reduces each probe per channel (the same maxima).", ""])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
    else:
        print(section(quick="--quick" in sys.argv))
