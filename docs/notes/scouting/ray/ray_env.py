"""Prototype of snnc's Ray start-up: loopback-only, no phone-home, no files outside a run dir.

Every variable below was found necessary on ray 2.60.0 (see FINDINGS.md §2):
- RAY_USAGE_STATS_ENABLED=0            usage stats off (also silences the prompt of `ray start`)
- RAY_USAGE_STATS_REPORT_URL=loopback   `ray start` clusters send a "disabled" ping to usage-stats.ray.io
                                        even when stats are off (dashboard UsageStatsHead)
- http(s)_proxy=http://127.0.0.1:9      the dashboard process (started even with include_dashboard=False)
                                        probes cloud metadata (169.254.169.254, metadata.google.internal)
                                        with `requests`; a dead loopback proxy makes these fail locally.
                                        Ray's own gRPC ignores the proxy (verified).
- RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0   makes Ray pick 127.0.0.1 as node IP; then gcs/raylet/workers
                                        listen on 127.0.0.1 instead of 0.0.0.0 (embedded/head on one host only)
- RAY_AUTH_MODE=token + RAY_AUTH_TOKEN  keep Ray's token auth, but from the environment: otherwise Ray
                                        writes ~/.ray/auth_token
"""
from __future__ import annotations

import json
from pathlib import Path
import os
import secrets
import sys

DEAD_LOOPBACK = "http://127.0.0.1:9"


def loopback_env(token: str | None = None, single_host: bool = True) -> dict[str, str]:
    """Environment variables that keep a Ray node on this host and silent."""
    env = {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_USAGE_STATS_REPORT_URL": DEAD_LOOPBACK + "/",
        "http_proxy": DEAD_LOOPBACK,
        "https_proxy": DEAD_LOOPBACK,
        "HTTP_PROXY": DEAD_LOOPBACK,
        "HTTPS_PROXY": DEAD_LOOPBACK,
        "no_proxy": "127.0.0.1,localhost,::1",
        "NO_PROXY": "127.0.0.1,localhost,::1",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token or secrets.token_hex(32),
    }
    if single_host:
        env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    return env


def import_ray(single_host: bool = True, token: str | None = None):
    """Set the loopback environment, then import ray (ray reads RAY_AUTH_MODE and
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER once, at import: setting them later has no effect).

    The variables stay set for the driver's whole life: its own core worker reads RAY_AUTH_TOKEN,
    and Ray's processes (gcs, raylet, dashboard, workers) inherit os.environ when spawned."""
    if "ray" in sys.modules:
        raise RuntimeError("ray was imported before its environment was set")
    os.environ.update(loopback_env(token=token, single_host=single_host))
    import ray

    return ray


def init_embedded(num_cpus: int, temp_dir: str, **kwargs):
    """Start an embedded single-host Ray with `num_cpus` worker slots; returns the RayContext."""
    ray = import_ray() if "ray" not in sys.modules else sys.modules["ray"]
    return ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        log_to_driver=kwargs.pop("log_to_driver", False),
        logging_level="warning",
        _temp_dir=temp_dir,
        **kwargs,
    )


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]  # field 22: start time in clock ticks


def record_ray_pids(run_dir: str, driver_pid: int) -> list[int]:
    """After ray.init: remember the driver's descendants (pid + start time) in run_dir/ray-pids.json."""
    import raytools

    pids = raytools.children_tree(driver_pid)[1:]
    table = {str(p): _start_time(p) for p in pids}
    Path(run_dir, "ray-pids.json").write_text(json.dumps(table))
    return pids


def kill_stale_ray(run_dir: str) -> list[int]:
    """On resume: SIGKILL the processes recorded by a previous (dead) driver that still exist with
    the same start time (so a reused pid is never hit). Returns the pids killed."""
    import signal

    table_file = Path(run_dir, "ray-pids.json")
    if not table_file.exists():
        return []
    killed = []
    for pid, started in json.loads(table_file.read_text()).items():
        if started is not None and _start_time(int(pid)) == started:
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))
            except ProcessLookupError:
                pass
    table_file.unlink()
    return killed
