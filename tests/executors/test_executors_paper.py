"""``snnc experiment --size paper --executor ray``: the paper plan's runs as work units on one embedded Ray
(shared by the module). The oracle is the same command with ``--executor local``: the committed results
(``docs/results/paper/<variant>-seed<s>.json``) and the per-variant ``result.json`` files are byte-identical,
and a rerun finds everything committed and computes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import cli, tree_bytes

#: the plan of --variants vanilla (vanilla seeds 0, 1, 2) at a tiny size
TINY_PAPER = ("--size", "paper", "--data", "synthetic-hard", "--T", "4", "--epochs", "1", "--train-samples", "11",
              "--test-samples", "11", "--calibrate", "4", "--variants", "vanilla")


def _paper(root: Path, *extra) -> int:
    (root / "docs").mkdir(exist_ok=True)
    return cli("experiment", *TINY_PAPER, "--out", root / "out", "--doc", root / "docs" / "paper-tables.md", *extra)


def _committed(root: Path) -> dict[str, bytes]:
    """file name -> bytes of the settings-determined results (the ``.run.json`` facts differ from run to run)."""
    return {p.name: p.read_bytes() for p in sorted((root / "docs" / "results" / "paper").glob("*.json"))
            if not p.name.endswith(".run.json")}


@pytest.fixture(scope="module")
def local_paper(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("paper-local")
    assert _paper(root) == 0
    return root


@pytest.mark.slow  # ~25 s beyond the Ray start-up on the loaded 2-core machine (six tiny runs)
def test_paper_command_on_two_workers_is_byte_identical_and_a_rerun_computes_nothing(embedded_ray, local_paper,
                                                                                     tmp_path, capfd):
    assert _paper(tmp_path, "--executor", "ray", "--workers", "2") == 0
    err = capfd.readouterr().err
    assert "3 units computed (0 reused) on ray" in err and "retried 0" in err
    local = _committed(local_paper)
    assert sorted(local) == ["vanilla-seed0.json", "vanilla-seed1.json", "vanilla-seed2.json"]
    assert _committed(tmp_path) == local
    assert tree_bytes(tmp_path / "out") == tree_bytes(local_paper / "out")
    assert len(tree_bytes(local_paper / "out")) == 3  # OUT/seed<s>/vanilla/result.json
    facts = json.loads((tmp_path / "docs" / "results" / "paper" / "vanilla-seed1.run.json").read_text())
    assert facts["wall_seconds"] > 0
    doc = (tmp_path / "docs" / "paper-tables.md").read_text()
    assert "Missing: asa seed 0, tcsa seed 0" in doc  # the section lists all three vanilla runs and no other

    before = {p.name: p.read_bytes() for p in (tmp_path / "docs" / "results" / "paper").iterdir()}
    assert _paper(tmp_path, "--executor", "ray", "--workers", "2") == 0
    err = capfd.readouterr().err
    assert "0 units computed (3 reused) on ray" in err
    assert err.count("committed in") == 3
    assert {p.name: p.read_bytes() for p in (tmp_path / "docs" / "results" / "paper").iterdir()} == before


#: two runs of the same seed: one data set per worker, a few seconds each
TWO_RUNS = (("vanilla", 0), ("asa", 0))


def _run_plan(root: Path, **executor) -> list[dict]:
    from snnc.experiment.paper_results import run_plan
    from snnc.experiment.runner import Settings

    tiny = Settings(data="synthetic-hard", T=4, epochs=1, train_samples=11, test_samples=11, calibrate=4, batch_size=8)
    return run_plan(tiny, root / "out", root / "docs" / "results" / "paper", None, "test", TWO_RUNS,
                    say=lambda _: None, threads=1, **executor)


def test_two_paper_runs_on_ray_equal_local_and_are_not_recomputed(embedded_ray, tmp_path, capfd):
    local = _run_plan(tmp_path / "local")
    on_ray = _run_plan(tmp_path / "ray", executor="ray", workers=2)
    err = capfd.readouterr().err
    assert "2 units computed (0 reused) on ray" in err
    assert _committed(tmp_path / "ray") == _committed(tmp_path / "local")
    assert sorted(_committed(tmp_path / "local")) == ["asa-seed0.json", "vanilla-seed0.json"]
    assert [(r["variant"], r["key"], r["resumed"]) for r in on_ray] == [(r["variant"], r["key"], False) for r in local]
    again = _run_plan(tmp_path / "ray", executor="ray", workers=2)
    assert "0 units computed (2 reused) on ray" in capfd.readouterr().err
    assert [r["resumed"] for r in again] == [True, True]
    assert [r["wall_seconds"] for r in again] == [r["wall_seconds"] for r in on_ray]  # the facts, read back
