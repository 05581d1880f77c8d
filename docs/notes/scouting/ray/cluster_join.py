"""Item 3: `ray start --head --port 0` as a separate process, drivers join it by address, then stop.

Run (private net+pid namespace, so `ray stop` sees only these processes):
  ./sandbox-pid.sh venv/bin/python cluster_join.py --stop ray-stop
On the host (stop only this run's processes, found by their --temp-dir in the command line):
  venv/bin/python cluster_join.py --stop session
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ray_env
import raytools

HERE = Path(__file__).resolve().parent
RAY = str(HERE / "venv/bin/ray")
PY = str(HERE / "venv/bin/python")

DRIVER = r"""
import json, os, sys, time
t0 = time.perf_counter()
import ray
t1 = time.perf_counter()
kw = {"_temp_dir": sys.argv[2]} if sys.argv[1] == "auto" else {}
ctx = ray.init(address=sys.argv[1], log_to_driver=False, logging_level="warning", **kw)
t2 = time.perf_counter()
@ray.remote
def square(x):
    return x * x, ray.util.get_node_ip_address()
out = ray.get([square.remote(i) for i in range(4)])
t3 = time.perf_counter()
ray.shutdown()
print(json.dumps({"address": sys.argv[1], "gcs": ctx.address_info["gcs_address"],
                  "results": out, "import_s": round(t1 - t0, 2), "connect_s": round(t2 - t1, 2),
                  "tasks_s": round(t3 - t2, 2)}))
"""


def session_pids(temp_dir: str) -> list[int]:
    """Pids of processes whose command line or environment names this run's temp dir."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if temp_dir.encode() in cmd:
                pids.append(int(entry.name))
    return pids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stop", choices=["ray-stop", "session"], default="session")
    args = parser.parse_args()
    temp_dir = tempfile.mkdtemp(prefix="rsc-", dir="/tmp")
    env = {**os.environ, **ray_env.loopback_env()}  # same token for head and drivers
    before = {a for a, _ in raytools.listening(raytools.children_tree(1))}
    t0 = time.perf_counter()
    start = subprocess.run(
        [RAY, "start", "--head", "--port", "0", "--num-cpus", "2", "--node-ip-address", "127.0.0.1",
         "--temp-dir", temp_dir, "--include-dashboard", "false", "--disable-usage-stats"],
        env=env, capture_output=True, text=True, timeout=180)
    t_start = time.perf_counter() - t0
    print("ray start rc", start.returncode, f"{t_start:.1f}s", file=sys.stderr)
    if start.returncode:
        print(start.stdout, start.stderr, file=sys.stderr)
        raise SystemExit(1)
    address_file = Path(temp_dir) / "ray_current_cluster"
    address = address_file.read_text().strip()
    printed = re.findall(r"--address='([^']+)'", start.stdout + start.stderr)
    status = subprocess.run([RAY, "status", "--address", address], env=env, capture_output=True,
                            text=True, timeout=60)
    drivers = []
    for addr in (address, "auto"):
        out = subprocess.run([PY, "-c", DRIVER, addr, temp_dir], env=env, capture_output=True,
                             text=True, timeout=180, cwd="/tmp")
        drivers.append(json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0
                       else {"address": addr, "rc": out.returncode, "err": out.stderr[-800:]})
    pids = session_pids(temp_dir)
    listening = sorted({row for row in raytools.listening(raytools.children_tree(1))
                        if row[0] not in before})
    t1 = time.perf_counter()
    if args.stop == "ray-stop":
        stop = subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, text=True,
                              timeout=120)
        stop_msg = [ln for ln in (stop.stdout + stop.stderr).strip().splitlines() if ln.strip()][-6:]
    else:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stop_msg = [f"SIGKILL to {len(pids)} pids of this session"]
    t_stop = time.perf_counter() - t1
    time.sleep(1)
    print(json.dumps({
        "ray_start_s": round(t_start, 1), "address_file": address, "printed_address": printed,
        "status_ok": status.returncode == 0 and "CPU" in status.stdout,
        "status_cpu_line": [ln.strip() for ln in status.stdout.splitlines() if "CPU" in ln][:1],
        "drivers": drivers, "session_pids": len(pids), "listening": listening,
        "non_loopback": raytools.non_loopback(listening), "stop": stop_msg,
        "stop_s": round(t_stop, 1), "left_after_stop": len(session_pids(temp_dir)),
        "home_ray_exists": os.path.exists(os.path.expanduser("~/.ray")),
    }, indent=1))


if __name__ == "__main__":
    main()
