"""The executors without Ray: shard edges, the shard-and-sum arithmetic (run through the local
executor, so Ray is not needed to check it), the flag checks and the lazy import of ray."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from snnc.errors import SnncError
from snnc.executors.simulate_shards import ShardedCounts, shard_bounds

REPO = Path(__file__).resolve().parents[2]


@given(n=st.integers(1, 500), batch=st.integers(1, 64), shards=st.integers(1, 20))
@settings(max_examples=200, deadline=None)
def test_shards_are_contiguous_whole_batches(n, batch, shards):
    bounds = shard_bounds(n, batch, shards)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(hi == lo2 for (_, hi), (lo2, _) in zip(bounds, bounds[1:]))
    assert all(lo % batch == 0 and hi > lo for lo, hi in bounds)
    assert len(bounds) == min(shards, -(-n // batch))


@pytest.mark.parametrize("timing", ["snnc", "lava"])  # lava: the pipeline readout and its dropped events
def test_sharded_counts_equal_one_process(demo_artifact, timing):
    """Five shards of 8-sample batches, summed, give the JSON of the one-process run, bit for bit."""
    from snnc.simulate_session import simulate

    kw = dict(data="synthetic", samples=36, batch=8, energy=True, seed=3, timing=timing)
    one = simulate(str(demo_artifact), **kw)
    sharded = simulate(str(demo_artifact), **kw, run_counts=ShardedCounts(
        str(demo_artifact), None, None, "synthetic", 36, 3, executor="local", shards=5))
    assert one["layers"][0]["spikes_per_sample"] > 0 and one["energy"]["totals"]["sop"] > 0
    assert json.dumps(sharded, default=float) == json.dumps(one, default=float)


@pytest.mark.parametrize("args, flag", [
    (("--executor", "local", "--address", "auto"), "--address"),
    (("--executor", "local", "--workers", "2"), "--workers"),
    (("--executor", "local", "--shards", "3"), "--shards"),
])
def test_executor_flags_need_ray(args, flag, demo_artifact, tmp_path, capsys):
    from snnc_testing import run_cli

    code, out, err = run_cli(capsys, "simulate", demo_artifact, "--json", tmp_path / "r.json", *args)
    assert code == 2 and flag in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


def test_check_executor_options():
    from snnc.executors.run import check_executor_options

    check_executor_options("ray", "auto", 4)
    with pytest.raises(SnncError, match="--executor"):
        check_executor_options("dask", None, None)


def test_snnc_does_not_import_ray():
    code = ("import sys, snnc, snnc.cli, snnc.commands.experiment, snnc.commands.simulate, snnc.executors.run; "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    help_code = ("import sys\nfrom snnc.cli import main\ntry:\n    main(['simulate', '--help'])\n"
                 "except SystemExit:\n    pass\nassert 'ray' not in sys.modules and 'torch' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", help_code], check=True, cwd=REPO, capture_output=True, text=True)
    assert "--executor [local|ray]" in out.stdout and "--shards" in out.stdout
