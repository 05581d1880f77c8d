"""``--address``: snnc joins a Ray cluster that runs as separate processes (``ray start --head --port 0
--num-cpus 2`` on 127.0.0.1), and its shards there give the JSON of a one-process run. The head is
stopped by the pids of its own temp dir (``ray stop`` would end every Ray on the machine)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import cli, kill_pids, session_pids


@pytest.fixture(scope="module")
def ray_head():
    """A 2-CPU head on loopback, with the loopback environment and token of this process; its address."""
    from snnc.executors.ray_env import import_ray

    ray = import_ray(None)  # sets the environment (token included) the head and this driver share
    if ray.is_initialized():
        ray.shutdown()
    temp = tempfile.mkdtemp(prefix="snnc-rh-", dir="/tmp")
    ray_cli = str(Path(sys.executable).with_name("ray"))
    start = subprocess.run([ray_cli, "start", "--head", "--port", "0", "--num-cpus", "2", "--node-ip-address",
                            "127.0.0.1", "--temp-dir", temp, "--include-dashboard", "false",
                            "--disable-usage-stats"], env=dict(os.environ), capture_output=True, text=True,
                           timeout=240)
    try:
        assert start.returncode == 0, start.stdout + start.stderr
        address = (Path(temp) / "ray_current_cluster").read_text().strip()
        assert address.startswith("127.0.0.1:")
        yield address
    finally:
        for _ in range(3):  # the agents may be found only once the raylet is gone
            kill_pids(session_pids(temp))
            time.sleep(0.5)
        left = session_pids(temp)
        subprocess.run(["rm", "-rf", temp], check=False)
        assert not left, f"head processes left: {left}"


def test_join_a_cluster_by_address(ray_head, demo_artifact, tmp_path, capfd):
    args = ("simulate", demo_artifact, "--samples", "24", "--batch", "8", "--report-energy")
    assert cli(*args, "--json", tmp_path / "local.json") == 0
    capfd.readouterr()
    assert cli(*args, "--json", tmp_path / "cluster.json", "--executor", "ray", "--address", ray_head,
               "--shards", "3") == 0
    err = capfd.readouterr().err
    assert (tmp_path / "cluster.json").read_bytes() == (tmp_path / "local.json").read_bytes()
    assert "3 units computed (0 reused) on ray" in err


def test_a_wrong_address_is_one_line(capfd, demo_artifact, tmp_path):
    from snnc.executors.ray_env import import_ray

    import_ray(None)
    code = cli("simulate", demo_artifact, "--samples", "8", "--json", tmp_path / "r.json", "--executor", "ray",
               "--address", "127.0.0.1:9")
    err = capfd.readouterr().err.strip()
    assert code == 2 and err.startswith("snnc: error: --address 127.0.0.1:9: no Ray cluster answers there"), err
    assert "\n" not in err
    assert not (tmp_path / "r.json").exists()
