"""Item 4: a unit SIGKILLs its own worker on its first attempt (marker file) and is retried;
a unit raising a Python error reaches the driver as RayTaskError; how to report both.

Run:  OMP_NUM_THREADS=1 venv/bin/python fault_check.py
"""
from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path

import ray_env

ray = ray_env.import_ray()

WORK = Path(tempfile.mkdtemp(prefix="rsf-", dir="/tmp"))


def compute(unit: int) -> int:
    """The unit's real work: seeded per unit, never per worker."""
    import numpy as np

    rng = np.random.default_rng(1000 + unit)
    return int(rng.integers(0, 1 << 30, size=1000).sum())


@ray.remote(max_retries=2)
def unit_task(unit: int, kill_unit: int, work_dir: str) -> dict:
    attempts = Path(work_dir) / f"attempts-{unit}.log"
    with open(attempts, "a") as f:  # one line per attempt, written before any work
        f.write(f"{os.getpid()}\n")
    marker = Path(work_dir) / f"killed-{unit}"
    if unit == kill_unit and not marker.exists():
        marker.write_text("first attempt killed itself\n")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"unit": unit, "value": compute(unit), "pid": os.getpid()}


@ray.remote(max_retries=2)
def bad_unit(path: str, work_dir: str) -> None:
    with open(Path(work_dir) / "attempts-bad.log", "a") as f:
        f.write(f"{os.getpid()}\n")
    raise ValueError(f"{path}: not a snnc artifact (no manifest.json)")


@ray.remote(max_retries=0)
def always_dies() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    ray_env.init_embedded(2, str(WORK / "ray"))
    report: dict = {}
    t0 = time.perf_counter()
    results = ray.get([unit_task.remote(u, 1, str(WORK)) for u in range(4)])
    report["faulty_run_s"] = round(time.perf_counter() - t0, 2)
    report["results_equal_local"] = [r["value"] for r in results] == [compute(u) for u in range(4)]
    report["attempts_per_unit"] = {u: len((WORK / f"attempts-{u}.log").read_text().split())
                                   for u in range(4)}
    # Ray's own record of the retry: the state API (needs the dashboard's state module)
    try:
        from ray.util.state import list_tasks

        rows = list_tasks(filters=[("func_or_class_name", "=", "unit_task")], detail=True,
                          raise_on_missing_output=False, timeout=20)
        report["state_api"] = sorted((r.attempt_number, r.state) for r in rows)
    except Exception as exc:  # noqa: BLE001 - we report what happens
        report["state_api"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"

    # a normal Python error in a unit
    try:
        ray.get(bad_unit.remote("runs/v3/model.pt", str(WORK)))
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause
        report["python_error"] = {
            "caught_as": type(exc).__name__,
            "isinstance_ValueError": isinstance(exc, ValueError),
            "cause_type": type(cause).__name__,
            "clean_line": f"{type(cause).__name__}: {cause}",
            "str_exc_first_line": str(exc).splitlines()[0][:120],
            "attempts": len((WORK / "attempts-bad.log").read_text().split()),
        }
    # a worker that dies on every attempt
    try:
        ray.get(always_dies.remote())
    except Exception as exc:  # noqa: BLE001
        report["worker_lost"] = {"type": type(exc).__mro__[0].__name__,
                                 "bases": [c.__name__ for c in type(exc).__mro__[1:4]],
                                 "first_line": str(exc).splitlines()[0][:160]}
    ray.shutdown()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
