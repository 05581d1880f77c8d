"""``--executor ray`` on one embedded Ray (shared by the module): results byte-identical to
``--executor local``, a worker killed mid-unit is retried to the same result, a failing unit is
one line naming it. The oracle is always the local run of the same command."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from conftest import TINY_EXPERIMENT, cli, tree_bytes
from snnc.errors import SnncError


def test_experiment_on_two_workers_is_byte_identical(embedded_ray, local_experiment, tmp_path, capfd):
    out = tmp_path / "out"
    code = cli("experiment", *TINY_EXPERIMENT, "--out", out, "--doc", tmp_path / "doc.md",
               "--executor", "ray", "--workers", "2")
    err = capfd.readouterr().err
    assert code == 0, err
    local = tree_bytes(local_experiment)
    assert sorted(local) == ["asa/result.json", "vanilla/result.json"]
    assert tree_bytes(out) == local
    assert "2 units computed (0 reused) on ray" in err and "retried 0" in err


def test_simulate_in_three_shards_equals_one_process(embedded_ray, demo_artifact, tmp_path, capfd):
    args = ("simulate", demo_artifact, "--samples", "40", "--batch", "8", "--report-energy")
    assert cli(*args, "--json", tmp_path / "local.json") == 0
    local_out = capfd.readouterr().out
    assert cli(*args, "--json", tmp_path / "ray.json", "--executor", "ray", "--shards", "3") == 0
    ray_out, err = capfd.readouterr()
    assert (tmp_path / "ray.json").read_bytes() == (tmp_path / "local.json").read_bytes()
    assert json.loads((tmp_path / "local.json").read_text())["energy"]["totals"]["sop"] > 0
    assert ray_out == local_out  # the report on stdout, and nothing of Ray's
    assert "3 units computed (0 reused) on ray" in err


def kill_first_attempt(payload: dict) -> dict:
    """The experiment unit, except that the first attempt of the unit named in the payload kills its
    own worker (SIGKILL) before any work; a marker file remembers that it happened."""
    from snnc.executors.experiment_unit import experiment_unit

    marker = Path(payload["marker"])
    if payload["variant"] == payload["kill"] and not marker.exists():
        marker.write_text(f"{os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    return experiment_unit(payload)


def failing_unit(payload: dict) -> None:
    raise SnncError(f"{payload['path']}: not a snnc artifact (no manifest.json)")


def _experiment_units(out: Path):
    from snnc.commands.train import _threads
    from snnc.executors.experiment_unit import experiment_units
    from snnc.experiment.runner import Settings
    from snnc.experiment.variants import select

    settings = Settings(epochs=1, train_samples=16, test_samples=8, calibrate=4)
    return experiment_units(select(["asa"]), settings, out, _threads())


def test_a_killed_worker_is_retried_to_the_same_result(embedded_ray, local_experiment, tmp_path, capfd):
    from ray import cloudpickle

    from snnc.executors.run import run_units
    from snnc.executors.units import Unit

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test file
    out = tmp_path / "out"
    marker = tmp_path / "asa.killed"
    units = [Unit(u.name, {**u.payload, "kill": "asa", "marker": str(marker)}) for u in _experiment_units(out)]
    _, summary = run_units(units, kill_first_attempt, executor="ray", workers=2, title="experiment")
    err = capfd.readouterr().err
    assert marker.exists() and summary.retried == 1 and "retried 1" in err
    assert tree_bytes(out) == tree_bytes(local_experiment)


def test_a_failing_unit_fails_the_run_in_one_line_naming_it(embedded_ray, capfd):
    from ray import cloudpickle

    from snnc.executors.run import run_units
    from snnc.executors.units import Unit

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    units = [Unit("shard 0", {"path": "ok"}), Unit("asa/seed0", {"path": "runs/asa/model.pt"})]
    with pytest.raises(SnncError) as e:
        run_units(units, failing_unit, executor="ray", title="t")
    assert str(e.value).startswith("unit ") and "\n" not in str(e.value)
    assert str(e.value) in ("unit asa/seed0: runs/asa/model.pt: not a snnc artifact (no manifest.json)",
                            "unit shard 0: ok: not a snnc artifact (no manifest.json)")
