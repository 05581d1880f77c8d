"""Run work units as Ray tasks: embedded single-host Ray (``ray.init(num_cpus=N)``) or a cluster
joined by address (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``).

- every unit is one task (1 CPU) with ``max_retries``: a lost worker is retried, and since a unit is
  seeded from its payload the retry returns the same value;
- a small actor counts the attempts of every unit (Ray's state API needs the dashboard, which stays
  off), which gives the bar's running and retried figures;
- a unit that raises fails the run with one line naming the unit (``SnncError``), not Ray's traceback;
- Ray prints its raylet messages ("a worker died ...") to the driver's stdout: while Ray runs,
  stdout goes to stderr, so ``--json -`` style outputs stay clean.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from snnc.errors import SnncError
from snnc.executors import ray_env
from snnc.executors.progress import UnitProgress
from snnc.executors.units import OnResult, RunSummary, Unit, UnitFunction, timed_call

MAX_RETRIES = 2
_REMOTES: dict[str, Any] = {}
_OURS: dict[str, float] = {}  # "startup": seconds, while a Ray this module started runs


def _remotes(ray: Any) -> tuple[Any, Any]:
    """(Tracker actor class, run_unit remote function), defined once per process."""
    if not _REMOTES:
        @ray.remote(num_cpus=0)
        class Tracker:
            """Attempts per unit: ``started`` is awaited first thing in every attempt."""

            def __init__(self) -> None:
                self.starts: dict[int, int] = {}

            def started(self, index: int) -> int:
                self.starts[index] = self.starts.get(index, 0) + 1
                return self.starts[index]

            def snapshot(self) -> dict[int, int]:
                return dict(self.starts)

        @ray.remote(num_cpus=1, max_retries=MAX_RETRIES)
        def run_unit(fn: UnitFunction, payload: dict, index: int, tracker: Any) -> tuple[Any, float]:
            ray.get(tracker.started.remote(index))
            return timed_call(fn, payload)

        _REMOTES.update(tracker=Tracker, run_unit=run_unit)
    return _REMOTES["tracker"], _REMOTES["run_unit"]


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """A ``HOST:PORT`` (or ``ray://HOST:PORT``) that accepts no TCP connection is a one-line error
    (Ray itself would retry connecting for minutes). ``auto`` is left to Ray."""
    import socket

    if address == "auto":
        return
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise SnncError(f"--address {address}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise SnncError(f"--address {address}: no Ray cluster answers there ({e.strerror or e})") from None


@contextlib.contextmanager
def ray_session(workers: int | None, address: str | None, run_dir: Path | None):
    """Yields (ray, start-up seconds). Reuses a Ray this process already runs (then leaves it
    running); otherwise starts an embedded one (or joins ``address``) and shuts it down at the end."""
    start = time.perf_counter()
    ray = ray_env.import_ray(address)
    if ray.is_initialized():
        yield ray, _OURS.get("startup", 0.0)
        return
    if run_dir is not None:
        stale = ray_env.kill_stale_ray(run_dir)
        if stale:
            print(f"note: ended {len(stale)} Ray processes left by a previous, killed run", file=sys.stderr)
    temp = None
    try:
        if address is None:
            temp = tempfile.mkdtemp(prefix="snnc-ray-", dir="/tmp")  # short: Ray's unix sockets live there
            ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                     logging_level="warning", _temp_dir=temp)
            if run_dir is not None:
                ray_env.record_ray_pids(run_dir, temp)
        else:
            check_reachable(address)
            ray.init(address=address, log_to_driver=False, logging_level="warning")
    except (ConnectionError, RuntimeError, ValueError) as e:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
        what = ("--executor ray: cannot start an embedded Ray" if address is None
                else f"--address {address}: cannot join a Ray cluster there")
        first = str(e).splitlines()[0] if str(e) else ""
        raise SnncError(f"{what} ({type(e).__name__}: {first})") from None
    _OURS["startup"] = time.perf_counter() - start
    try:
        yield ray, _OURS["startup"]
    finally:
        _OURS.clear()
        ray.shutdown()
        if run_dir is not None:
            ray_env.forget_ray_pids(run_dir)
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _failure(ray: Any, unit: Unit, exc: Exception) -> Exception:
    """One line naming the unit: the unit's own error, or the lost worker."""
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = exc.cause
        if isinstance(cause, SnncError):
            return SnncError(f"unit {unit.name}: {cause}")
        return SnncError(f"unit {unit.name}: {type(cause).__name__}: {cause}")
    first = (str(exc).splitlines() or [""])[0]
    return SnncError(f"unit {unit.name}: failed after {MAX_RETRIES} retries ({type(exc).__name__}: {first})")


def run_ray(units: list[Unit], fn: UnitFunction, *, workers: int | None, address: str | None,
            bar: UnitProgress, on_result: OnResult, summary: RunSummary, run_dir: Path | None) -> list[Any]:
    """Values of ``units`` in order (module docstring); fills ``summary`` (unit times, retries, start-up)."""
    values: dict[int, Any] = {}
    with contextlib.redirect_stdout(sys.stderr), ray_session(workers, address, run_dir) as (ray, startup):
        summary.startup_s = startup
        tracker_cls, run_unit = _remotes(ray)
        tracker = tracker_cls.remote()
        cap = workers if address is not None and workers else len(units)  # on a cluster: units in flight
        queue = list(range(len(units)))
        index_of: dict[Any, int] = {}
        pending: list[Any] = []
        try:
            while queue or pending:
                while queue and len(pending) < cap:
                    i = queue.pop(0)
                    ref = run_unit.remote(fn, units[i].payload, i, tracker)
                    index_of[ref] = i
                    pending.append(ref)
                done, pending = ray.wait(pending, num_returns=1, timeout=0.25)
                for ref in done:
                    i = index_of[ref]
                    try:
                        values[i], seconds = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        raise _failure(ray, units[i], exc) from None
                    summary.unit_s.append(seconds)
                    on_result(i, values[i])
                starts = ray.get(tracker.snapshot.remote())
                summary.retried = sum(n - 1 for n in starts.values())
                bar.update(len(values), sum(1 for i in starts if i not in values), summary.retried)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            ray.kill(tracker)
    return [values[i] for i in range(len(units))]
