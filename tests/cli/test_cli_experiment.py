"""``snnc experiment``: a tiny end-to-end run writes the tables and figures from its own results; bad
flags get one line and leave nothing behind."""

from __future__ import annotations

import json

from snnc_testing import run_cli

TINY = ("--epochs", "1", "--train-samples", "16", "--test-samples", "8", "--calibrate", "4")


def test_tiny_run_writes_tables_from_its_results(capsys, tmp_path):
    doc, out, js = tmp_path / "paper-tables.md", tmp_path / "runs", tmp_path / "all.json"
    code, stdout, err = run_cli(capsys, "experiment", *TINY, "--variants", "asa,tcsa", "--out", out, "--doc", doc,
                                "--json", js)
    assert code == 0, err
    results = json.loads(js.read_text())
    assert [r["variant"] for r in results] == ["vanilla", "tcsa", "asa"]
    text = doc.read_text()
    for r in results:
        assert (out / r["variant"] / "result.json").is_file()
        e = r["exact"]["energy"]["totals"]["energy_analytic_pj"] / 1e6
        assert f"| {r['label']} |" in text and f"{e:.3f}" in text
    assert "0.314 (-76.1 %)" in text and "0.536 (-59.2 %)" in text  # published Table S3 beside ours
    assert (tmp_path / "figures" / "paper-energy.png").stat().st_size > 1000
    # a second run resumes every variant
    code, _, _ = run_cli(capsys, "experiment", *TINY, "--variants", "asa,tcsa", "--out", out, "--doc", doc)
    assert code == 0 and "3 of 3 variants resumed" in doc.read_text()


def test_bad_flags_one_line_nothing_written(capsys, tmp_path):
    cases = [
        (("--variants", "asa,gru"), "--variants"),
        (("--doc", tmp_path / "missing" / "x.md"), "--doc"),
        (("--size", "huge"), "--size"),
        (("--T", "1"), "--T"),
    ]
    for args, flag in cases:
        code, out, err = run_cli(capsys, "experiment", "--out", tmp_path / "o", "--doc", tmp_path / "d.md", *args)
        assert code == 2 and flag in err and "Traceback" not in err, (args, err)
    assert not (tmp_path / "o").exists() and not (tmp_path / "d.md").exists()


def test_cli_variant_names_match_the_variant_table():
    from snnc.commands.experiment import VARIANT_NAMES
    from snnc.experiment.variants import VARIANTS

    assert VARIANT_NAMES == tuple(v.name for v in VARIANTS)


def test_missing_dataset_folder_is_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "experiment", "--data", tmp_path / "nope", "--out", tmp_path / "o",
                           "--doc", tmp_path / "d.md")
    assert code == 2 and "nope" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d.md").exists() and not (tmp_path / "o").exists()


def test_runs_on_a_dvs_gesture_folder(capsys, tmp_path):
    """A fake folder in tonic's layout (user01–23 train, user24+ test) goes through the whole chain."""
    import numpy as np

    rng = np.random.default_rng(0)
    for user in (1, 2, 24):
        for label in (0, 5, 10):
            n = 400
            ev = np.stack([rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n),
                           np.sort(rng.uniform(5.0, 1500.0, n))], 1)
            path = tmp_path / "gesture" / f"user{user:02d}_led" / f"{label}.npy"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, ev)
    js = tmp_path / "all.json"
    code, _, err = run_cli(capsys, "experiment", "--data", tmp_path / "gesture", "--epochs", "1", "--train-samples", "6",
                           "--test-samples", "3", "--calibrate", "2", "--variants", "asa", "--out", tmp_path / "o",
                           "--doc", tmp_path / "d.md", "--json", js)
    assert code == 0, err
    results = json.loads(js.read_text())
    assert all(r["config"]["num_classes"] == 11 and r["samples"] == 3 for r in results)
    assert "DVS128 Gesture" in (tmp_path / "d.md").read_text()
