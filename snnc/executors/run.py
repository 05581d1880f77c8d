"""``run_units``: the one entry point of the executors (``--executor {local,ray}``).

Runs ``fn`` on every unit, calls ``on_result`` as each finishes (in finishing order), returns the
values in unit order, draws one bar over all units (done / running / retried) and ends with one
stderr line: units computed and reused, wall time, the sum of the units' own times and their ratio
(the speed-up over running the same units one after another; 1.00x locally, at most the number of
workers)."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from snnc.errors import SnncError
from snnc.executors import EXECUTORS
from snnc.executors.progress import UnitProgress
from snnc.executors.units import OnResult, RunSummary, Unit, UnitFunction, timed_call


def check_executor_options(executor: str, address: str | None, workers: int | None) -> None:
    """Flags that make no sense together are one-line errors."""
    if executor not in EXECUTORS:
        raise SnncError(f"--executor: must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "local" and address is not None:
        raise SnncError("--address: only with --executor ray")
    if executor == "local" and workers not in (None, 1):
        raise SnncError("--workers: only with --executor ray (local runs one unit at a time)")
    if workers is not None and workers < 1:
        raise SnncError(f"--workers: must be at least 1, got {workers}")


def _run_local(units: list[Unit], fn: UnitFunction, bar: UnitProgress, on_result: OnResult,
               summary: RunSummary) -> list[Any]:
    values = []
    for i, unit in enumerate(units):
        bar.update(i, 1, 0, stage=unit.name)
        value, seconds = timed_call(fn, unit.payload)
        summary.unit_s.append(seconds)
        values.append(value)
        on_result(i, value)
    bar.update(len(units), 0, 0)
    return values


def run_units(units: list[Unit], fn: UnitFunction, *, executor: str = "local", address: str | None = None,
              workers: int | None = None, title: str = "units", reused: int = 0,
              on_result: OnResult | None = None, run_dir: Path | None = None,
              quiet: bool = False) -> tuple[list[Any], RunSummary]:
    """(values in unit order, summary) of running ``units`` (module docstring). ``reused``: units
    already finished before this run (shown as done). ``run_dir``: where an embedded Ray records its
    pids, so that a rerun after a killed driver ends its orphans."""
    check_executor_options(executor, address, workers)
    summary = RunSummary(executor, computed=len(units), reused=reused)
    start = time.perf_counter()
    report = on_result or (lambda i, v: None)
    with UnitProgress(f"{title} [{executor}]", len(units) + reused, reused) as bar:
        if not units:
            values: list[Any] = []
        elif executor == "local":
            values = _run_local(units, fn, bar, report, summary)
        else:
            from snnc.executors.ray_executor import run_ray

            values = run_ray(units, fn, workers=workers, address=address, bar=bar, on_result=report,
                             summary=summary, run_dir=run_dir)
    summary.wall_s = time.perf_counter() - start
    if not quiet:
        print(summary.line(), file=sys.stderr)
    return values, summary


@contextlib.contextmanager
def executor_session(executor: str, address: str | None = None, workers: int | None = None,
                     run_dir: Path | None = None) -> Iterator[None]:
    """Keep one Ray running across several :func:`run_units` calls (nothing to do for local)."""
    check_executor_options(executor, address, workers)
    if executor == "local":
        yield
        return
    from snnc.executors.ray_executor import ray_session

    with contextlib.redirect_stdout(sys.stderr), ray_session(workers, address, run_dir):
        yield
