"""A driver killed after its first finished unit: running the same command again computes only the
rest, ends the Ray processes the dead driver left behind, and the results equal the local run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TINY_EXPERIMENT, tree_bytes

SNNC = str(Path(sys.executable).with_name("snnc"))


def _alive(pid: int, started: str | None) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0] != "Z" and fields[19] == started


@pytest.mark.slow
def test_rerun_after_a_killed_driver_computes_only_the_rest(local_experiment, tmp_path):
    out = tmp_path / "out"
    cmd = [SNNC, "experiment", *TINY_EXPERIMENT, "--out", str(out), "--doc", str(tmp_path / "doc.md"),
           "--executor", "ray", "--workers", "1"]  # one worker: the units finish one after the other
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    driver = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while not list(out.glob("*/result.json")):
        assert driver.poll() is None, driver.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    driver.kill()
    driver.wait()
    first = {p: p.stat().st_mtime_ns for p in out.glob("*/result.json")}
    assert len(first) == 1  # the second unit was running when the driver died
    record = json.loads((out / ".ray-pids.json").read_text())
    recorded, temp_dir = record["pids"], Path(record["temp_dir"])
    assert temp_dir.is_dir()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    assert "1 units computed (1 reused) on ray" in rerun.stderr
    assert {p: p.stat().st_mtime_ns for p in first} == first  # the finished unit was not recomputed
    assert tree_bytes(out) == tree_bytes(local_experiment)
    assert not (out / ".ray-pids.json").exists()
    assert not [p for p, started in recorded.items() if _alive(int(p), started)]  # no orphan left
    assert not temp_dir.exists()  # nor the dead driver's Ray temp dir
