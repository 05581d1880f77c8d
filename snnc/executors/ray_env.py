"""Ray's environment: loopback only, no phone-home, no files outside the run (ray 2.60.0).

Found necessary while scouting (docs/notes/ray-scouting.md §2): a plain ``ray.init`` binds every
interface and its dashboard process probes cloud metadata servers (169.254.169.254) even with the
dashboard and usage stats off. The variables below are set **before** ``import ray`` (Ray reads
some of them once, at import) and stay set for the driver's life (Ray's processes inherit them):

- ``RAY_USAGE_STATS_ENABLED=0``, ``RAY_USAGE_STATS_REPORT_URL`` -> a dead loopback port;
- ``http(s)_proxy`` -> ``http://127.0.0.1:9``: the metadata probes (python ``requests``) fail at once
  on this host; Ray's own gRPC ignores the proxy;
- ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (single host only): Ray picks 127.0.0.1 as node address,
  so gcs, raylet and workers listen on loopback (a multi-node cluster must not set it);
- ``RAY_AUTH_MODE=token`` + ``RAY_AUTH_TOKEN``: token auth from the environment (a fresh token per
  embedded run), so Ray writes no ``~/.ray/auth_token``.

A variable the user already set is kept (``os.environ.setdefault``), so a cluster's own token and
settings win. Also here: the pids of an embedded Ray are recorded in the run folder, and a rerun
after a killed driver ends the orphans that Ray leaves (two agents outlive the driver).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

from snnc.errors import SnncError

DEAD_LOOPBACK = "http://127.0.0.1:9"
PIDS_FILE = ".ray-pids.json"


def loopback_env(single_host: bool, token: bool) -> dict[str, str]:
    """The variables of the module docstring (``token``: also token auth with a fresh token)."""
    env = {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_USAGE_STATS_REPORT_URL": DEAD_LOOPBACK + "/",
        "http_proxy": DEAD_LOOPBACK, "https_proxy": DEAD_LOOPBACK,
        "HTTP_PROXY": DEAD_LOOPBACK, "HTTPS_PROXY": DEAD_LOOPBACK,
        "no_proxy": "127.0.0.1,localhost,::1", "NO_PROXY": "127.0.0.1,localhost,::1",
    }
    if token:
        env.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)})
    if single_host:
        env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    return env


def is_loopback_address(address: str | None) -> bool:
    """An embedded Ray (None) or an address on this host (127.x, localhost; ``ray://`` too)."""
    if address is None:
        return True
    host = address.split("://", 1)[-1].rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("localhost", "[::1]")


def import_ray(address: str | None) -> Any:
    """Set the environment for a run joining ``address`` (None: embedded), then import ray.

    Raises SnncError when ray was imported by someone else before its environment was set."""
    if "ray" in sys.modules:
        if os.environ.get("RAY_USAGE_STATS_REPORT_URL") != DEAD_LOOPBACK + "/":
            raise SnncError("--executor ray: ray was imported before snnc set its loopback environment")
        return sys.modules["ray"]
    for name, value in loopback_env(is_loopback_address(address), token=address is None).items():
        os.environ.setdefault(name, value)
    import ray

    return ray


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]  # field 22: start time in clock ticks


def descendants(root: int) -> list[int]:
    """Every descendant pid of ``root`` (read from /proc)."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parent_of.items():
            if parent == pid and child not in found:
                found.add(child)
                frontier.append(child)
    return sorted(found)


def record_ray_pids(run_dir: Path, temp_dir: str) -> None:
    """After an embedded ``ray.init``: the driver's descendants (pid -> start time) and Ray's temp dir."""
    table = {str(p): _start_time(p) for p in descendants(os.getpid())}
    (run_dir / PIDS_FILE).write_text(json.dumps({"pids": table, "temp_dir": temp_dir}))


def forget_ray_pids(run_dir: Path) -> None:
    (run_dir / PIDS_FILE).unlink(missing_ok=True)


def kill_stale_ray(run_dir: Path) -> list[int]:
    """SIGKILL the processes a previous, killed driver recorded that still run with the same start
    time (a reused pid is never hit), and remove its Ray temp dir; returns the pids killed."""
    import shutil

    table_file = run_dir / PIDS_FILE
    try:
        record = json.loads(table_file.read_text())
        table, temp_dir = dict(record["pids"]), str(record["temp_dir"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
    killed = []
    for pid, started in table.items():
        if started is not None and _start_time(int(pid)) == started:
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))
            except (ProcessLookupError, PermissionError):
                pass
    if Path(temp_dir).name.startswith("snnc-ray-"):
        shutil.rmtree(temp_dir, ignore_errors=True)
    table_file.unlink(missing_ok=True)
    return killed
