"""Items 5-7: prototype of `--executor {local,ray}` for work units, one rich progress bar
(done / running / retried), per-unit seeding, byte-identical JSON against a serial run.

  venv/bin/python executor_proto.py experiment --executor local --out /tmp/x/local
  venv/bin/python executor_proto.py experiment --executor ray --workers 2 --out /tmp/x/ray [--kill-unit 1]
  venv/bin/python executor_proto.py simulate --executor ray --workers 2 --shards 3 --out /tmp/x/sim.json
  venv/bin/python executor_proto.py bench --executor ray --workers 2 --seconds 10
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# ----------------------------------------------------------------------------- work units


def experiment_unit(unit: dict) -> dict:
    """Train a tiny torch model for one (variant, seed); everything seeded from the unit only."""
    import torch

    torch.set_num_threads(1)  # same reduction order in every process (see FINDINGS §6)
    time.sleep(unit.get("slow", 0))  # only for the resume test: make a unit take a while
    torch.manual_seed(unit["seed"] * 1000 + unit["variant"])
    hidden = 32 * (1 + unit["variant"])
    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(unit["seed"])
    x = torch.randn(256, 64, generator=gen)
    y = torch.randint(0, 10, (256,), generator=gen)
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters()))
    return {"variant": unit["variant"], "seed": unit["seed"], "final_loss": float(loss),
            "params_sha256": digest.hexdigest(), "torch_threads": torch.get_num_threads(),
            "omp_env": os.environ.get("OMP_NUM_THREADS")}


def simulate_shard(unit: dict) -> dict:
    """Integer spike counts per layer and step for samples [lo, hi), in fixed micro-batches of 4
    (sample i always sits in batch i//4, whatever the shard: same float maths as one process)."""
    import numpy as np

    weights = [np.random.default_rng(7 + k).standard_normal((32, 32)).astype(np.float32) * 0.4
               for k in range(3)]
    steps, counts = 5, np.zeros((3, 5), dtype=np.int64)
    for start in range(unit["lo"], unit["hi"], 4):
        batch = np.stack([np.random.default_rng(10_000 + i).random(32, dtype=np.float32)
                          for i in range(start, min(start + 4, unit["hi"]))])
        membrane = [np.zeros((len(batch), 32), np.float32) for _ in range(3)]
        for t in range(steps):
            spikes = (batch > 0.5).astype(np.float32)
            for k in range(3):
                membrane[k] = 0.9 * membrane[k] + spikes @ weights[k]
                spikes = (membrane[k] > 1.0).astype(np.float32)
                membrane[k][spikes > 0] = 0.0
                counts[k, t] += int(spikes.sum())
    return {"lo": unit["lo"], "hi": unit["hi"], "counts": counts.tolist(),
            "synops": (counts * 32).tolist()}


def busy_unit(unit: dict) -> dict:
    """CPU-bound numpy for about unit['seconds'] on one core (benchmark)."""
    import numpy as np

    rng = np.random.default_rng(unit["index"])
    a = rng.standard_normal((200, 200))
    t0, acc = time.perf_counter(), 0.0
    for _ in range(unit["iterations"]):
        acc += float(np.tanh(a @ a.T * 1e-3).sum())
    return {"index": unit["index"], "acc": acc, "seconds": time.perf_counter() - t0}


UNITS: dict[str, Callable[[dict], dict]] = {
    "experiment": experiment_unit, "simulate": simulate_shard, "bench": busy_unit}

# ----------------------------------------------------------------------------- executors


def run_local(kind: str, units: list[dict], progress, on_result) -> list[dict]:
    fn, results = UNITS[kind], []
    for i, unit in enumerate(units):
        t0 = time.perf_counter()
        out = fn(unit)
        results.append({**out, "_unit_s": time.perf_counter() - t0})
        on_result(i, results[-1])
        progress(len(results), 0, 0)
    return results


def run_ray(kind: str, units: list[dict], workers: int, address: str | None, progress,
            kill_unit: int | None, on_result, run_dir: Path) -> list[dict]:
    import ray_env

    ray = ray_env.import_ray()
    run_dir.mkdir(parents=True, exist_ok=True)
    stale = ray_env.kill_stale_ray(str(run_dir))  # orphans of a driver that was killed
    if stale:
        print(f"killed {len(stale)} stale Ray processes of a previous run", file=sys.stderr)
    if address:
        ray.init(address=address, log_to_driver=False, logging_level="warning")
    else:
        ray_env.init_embedded(workers, tempfile.mkdtemp(prefix="rse-", dir="/tmp"))
        ray_env.record_ray_pids(str(run_dir), os.getpid())

    @ray.remote
    class Tracker:
        """Counts attempts per unit: started() is called (and awaited) first thing in each attempt."""

        def __init__(self) -> None:
            self.starts: dict[int, int] = {}

        def started(self, index: int) -> int:
            self.starts[index] = self.starts.get(index, 0) + 1
            return self.starts[index]

        def snapshot(self) -> dict[int, int]:
            return dict(self.starts)

    @ray.remote(max_retries=2, num_cpus=1)
    def run_unit(kind: str, unit: dict, index: int, tracker, kill_index: int | None) -> dict:
        attempt = ray.get(tracker.started.remote(index))
        if index == kill_index and attempt == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # lose this worker on the first attempt
        t0 = time.perf_counter()
        out = UNITS[kind](unit)
        return {**out, "_unit_s": time.perf_counter() - t0}

    tracker = Tracker.options(num_cpus=0).remote()
    refs = [run_unit.remote(kind, u, i, tracker, kill_unit) for i, u in enumerate(units)]
    index_of = {ref: i for i, ref in enumerate(refs)}
    results: dict[int, dict] = {}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1, timeout=0.25)
        for ref in done:
            try:
                results[index_of[ref]] = ray.get(ref)
                on_result(index_of[ref], results[index_of[ref]])
            except ray.exceptions.RayTaskError as exc:  # bad input: name the unit, one line
                ray.shutdown()
                raise SystemExit(f"snnc: error: unit {units[index_of[ref]]}: "
                                 f"{type(exc.cause).__name__}: {exc.cause}") from None
        starts = ray.get(tracker.snapshot.remote())
        running = sum(1 for i in starts if i not in results)
        retried = sum(n - 1 for n in starts.values())
        progress(len(results), running, retried)
    retried = sum(n - 1 for n in ray.get(tracker.snapshot.remote()).values())
    ray.shutdown()
    (run_dir / "ray-pids.json").unlink(missing_ok=True)
    out = [results[i] for i in range(len(units))]
    if out:
        out[0]["_retried_total"] = retried
    return out


def result_path(out: Path, unit: dict) -> Path:
    return out / f"v{unit['variant']}-s{unit['seed']}" / "result.json"


def write_result(out: Path, unit: dict, result: dict) -> None:
    """Atomic: write a temp file beside the target, then rename (a killed driver leaves no half file)."""
    keep = {k: v for k, v in result.items() if not k.startswith("_") and k not in ("omp_env", "torch_threads")}
    target = result_path(out, unit)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(keep, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, target)


def make_units(kind: str, args) -> list[dict]:
    if kind == "experiment":
        return [{"variant": v, "seed": s, "slow": args.slow} for v in range(2) for s in range(2)]
    if kind == "simulate":
        n, k = 24, args.shards  # shard edges on multiples of the micro-batch (4)
        edges = [round(n * j / k / 4) * 4 for j in range(k + 1)]
        return [{"lo": lo, "hi": hi} for lo, hi in zip(edges, edges[1:])]
    return [{"index": i, "iterations": args.iterations} for i in range(4)]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=list(UNITS))
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--address")
    p.add_argument("--shards", type=int, default=3)
    p.add_argument("--iterations", type=int, default=400)
    p.add_argument("--kill-unit", type=int)
    p.add_argument("--slow", type=float, default=0.0, help="extra seconds per experiment unit")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    units = make_units(args.kind, args)
    out = Path(args.out)
    done_before: dict[int, dict] = {}
    if args.kind == "experiment":  # resume: a unit whose result.json exists is not recomputed
        for i, u in enumerate(units):
            f = result_path(out, u)
            if f.exists():
                done_before[i] = json.loads(f.read_text())
    todo = [i for i in range(len(units)) if i not in done_before]

    def on_result(j: int, result: dict) -> None:
        if args.kind == "experiment":  # written by the driver the moment the unit is done
            write_result(out, units[todo[j]], result)

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("running {task.fields[running]}  retried {task.fields[retried]}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(f"{args.kind} [{args.executor}]", total=len(units), running=0,
                            retried=0, completed=len(done_before))

        def progress(done: int, running: int, retried: int) -> None:
            bar.update(task, completed=len(done_before) + done, running=running, retried=retried)

        todo_units = [units[i] for i in todo]
        if args.executor == "local":
            results = run_local(args.kind, todo_units, progress, on_result)
        else:
            results = run_ray(args.kind, todo_units, args.workers, args.address, progress,
                              args.kill_unit, on_result, out if args.kind == "experiment" else out.parent)
    wall = time.perf_counter() - t0
    unit_sum = sum(r.pop("_unit_s") for r in results)
    retried = results[0].pop("_retried_total", 0) if results else 0
    print(f"{len(results)} units computed ({len(done_before)} reused) in {wall:.1f} s wall, "
          f"sum of unit times {unit_sum:.1f} s, speed-up {unit_sum / max(wall, 1e-9):.2f}x, "
          f"retried {retried}", file=sys.stderr)
    if args.kind == "experiment":
        pass  # result.json files were written by on_result as units finished
    elif args.kind == "simulate":
        import numpy as np

        counts = sum(np.array(r["counts"], dtype=np.int64) for r in results)
        synops = sum(np.array(r["synops"], dtype=np.int64) for r in results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"counts": counts.tolist(), "synops": synops.tolist(),
                                   "total_spikes": int(counts.sum())}, indent=2) + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"wall_s": wall, "unit_sum_s": unit_sum,
                                   "unit_s": [r["seconds"] for r in results]}) + "\n")


if __name__ == "__main__":
    main()
