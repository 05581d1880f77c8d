"""``snnc train``: bad input gives one line, non-zero exit, no traceback, no file; a smoke run works."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dataclasses import dataclass

import pytest
import torch

from snnc.cli import main

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@dataclass
class Proc:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def snnc(capsys):
    """Run ``snnc train ARGS`` in-process through ``snnc.cli.main`` (exit code, stdout, stderr)."""

    def run(*args):
        code = 0
        try:
            main(["train", *args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            torch.set_num_threads(1)
        out = capsys.readouterr()
        return Proc(code, out.out, out.err)

    return run


def assert_one_line_error(proc, *fragments):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("snnc: error:") and "Traceback" not in proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.mark.parametrize("args, fragments", [
    (["--model", "lif-snn-9"], ["lif-snn-9"]),
    (["--T", "0"], ["--T", "positive"]),
    (["--T", "-4"], ["--T", "positive"]),
    (["--attention", "magic"], ["magic"]),
    (["--widths", "8,x"], ["--widths"]),
    (["--width-scale", "-1"], ["--width-scale"]),
    (["--weight-grad", "fast"], ["--weight-grad", "fast"]),
    (["--warmup-steps", "-1"], ["--warmup-steps", "-1"]),
    (["--warmup-steps", "2.5"], ["--warmup-steps", "2.5"]),
])
def test_bad_flags(tmp_path, args, snnc, fragments):
    proc = snnc(*args, "-o", str(tmp_path / "m.pt"), "--train-samples", "8", "--test-samples", "8", "--epochs", "1")
    assert_one_line_error(proc, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_refused_before_training(tmp_path, snnc):
    proc = snnc("-o", str(tmp_path / "missing" / "m.pt"))
    assert_one_line_error(proc, "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_output_is_a_directory(tmp_path, snnc):
    proc = snnc("-o", str(tmp_path))
    assert_one_line_error(proc)


def test_missing_dataset_folder_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "snnc.cli", "train", "--dataset", str(tmp_path / "no-such-dir"),
                           "-o", str(tmp_path / "m.pt")], capture_output=True, text=True, env=ENV, timeout=120)
    assert_one_line_error(proc, "no-such-dir", "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_malformed_dataset_folder(tmp_path, snnc):
    (tmp_path / "data" / "user01_led").mkdir(parents=True)
    (tmp_path / "data" / "user01_led" / "x.npy").write_bytes(b"")
    proc = snnc("--dataset", str(tmp_path / "data"), "-o", str(tmp_path / "m.pt"))
    assert_one_line_error(proc, "x.npy")
    assert not (tmp_path / "m.pt").exists()


def test_smoke_training_writes_a_loadable_checkpoint(tmp_path, snnc):
    out = tmp_path / "tiny.pt"
    proc = snnc("--attention", "asa", "--T", "4", "--widths", "4,8,8", "--epochs", "2", "--train-samples", "96",
                "--test-samples", "48", "--batch-size", "16", "--seed", "1", "--json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["output"] == str(out) and summary["T"] == 4 and summary["attention"] == "asa"
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and 0.0 < summary["mean_firing_rate"] < 1.0
    from snnc.models.checkpoint import load_checkpoint

    model, ckpt = load_checkpoint(out)
    assert ckpt["config"]["widths"] == [4, 8, 8] and ckpt["config"]["T"] == 4
    assert ckpt["test_accuracy"] == summary["test_accuracy"] and ckpt["hparams"]["seed"] == 1
    assert ckpt["hparams"]["weight_grad"] == "exact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.pt"]


def test_event_weight_grad_is_recorded_and_reproducible(tmp_path, snnc):
    args = ("--T", "4", "--widths", "4,8,8", "--epochs", "1", "--train-samples", "32", "--test-samples", "16",
            "--batch-size", "16", "--weight-grad", "event", "--json")
    for name in ("a.pt", "b.pt"):
        assert snnc(*args, "-o", str(tmp_path / name)).returncode == 0
    from snnc.models.checkpoint import read_checkpoint

    a, b = read_checkpoint(tmp_path / "a.pt"), read_checkpoint(tmp_path / "b.pt")
    assert a["hparams"]["weight_grad"] == "event"
    assert all(a["state_dict"][k].numpy().tobytes() == b["state_dict"][k].numpy().tobytes() for k in a["state_dict"])


def test_warmup_and_silent_outputs_are_recorded(tmp_path, snnc):
    out = tmp_path / "w.pt"
    proc = snnc("--attention", "none", "--T", "4", "--widths", "4,8,8", "--epochs", "1", "--train-samples", "32",
                "--test-samples", "16", "--batch-size", "16", "--warmup-steps", "3", "--json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    from snnc.data import load_dataset
    from snnc.models.checkpoint import load_checkpoint, read_checkpoint
    from snnc.train import evaluate_outputs

    ckpt = read_checkpoint(out)
    assert ckpt["hparams"]["warmup_steps"] == 3
    model, _ = load_checkpoint(out)
    silent = evaluate_outputs(model, *load_dataset("synthetic", "test", 16, 4, 0))[2]
    assert summary["silent_outputs"] == ckpt["train"]["silent_outputs"] == silent


def test_cli_defaults_are_the_demo_settings():
    from snnc.commands.train import DEMO
    from snnc.models import demo_config
    from snnc.models.registry import DEMO_TRAINING

    assert {k: v for k, v in DEMO.items() if k != "T"} == DEMO_TRAINING
    assert DEMO["T"] == demo_config("asa")["T"] == demo_config("none")["T"]


def test_help_does_not_import_torch():
    code = "import sys; from snnc.cli import main\ntry:\n main(['train', '--help'])\nexcept SystemExit:\n pass\nprint('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_progress_bar_path_trains_the_same_model():
    from snnc.commands.train import _run
    from snnc.data import load_dataset
    from snnc.models import demo_config

    cfg = {**demo_config("none"), "T": 4, "widths": [4, 4, 4], "fc_hidden": 8}
    train, test = load_dataset("synthetic", "train", 16, 4, 0), load_dataset("synthetic", "test", 8, 4, 0)
    how = dict(epochs=1, batch_size=8, lr=1e-3, seed=0, weight_grad="exact")
    shown = _run(cfg, train, test, how, 2, show=True)
    quiet = _run(cfg, train, test, how, 2, show=False)
    for (k, a), (_, b) in zip(shown.model.state_dict().items(), quiet.model.state_dict().items()):
        assert torch.equal(a, b), k


def test_bad_widths_for_model_fail_before_loading_data(tmp_path, snnc):
    proc = snnc("--widths", "4,4", "--dataset", str(tmp_path / "absent"), "-o", str(tmp_path / "m.pt"))
    assert_one_line_error(proc, "3 conv widths")


def test_training_on_a_gesture_folder(tmp_path, snnc):
    import numpy as np

    rng = np.random.default_rng(0)
    for user in (1, 24):
        for label in (0, 5, 10):
            n = 300
            ev = np.stack([rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n),
                           np.sort(rng.uniform(0, 500.0, n))], 1)
            d = tmp_path / "gesture" / f"user{user:02d}_led"
            d.mkdir(parents=True, exist_ok=True)
            np.save(d / f"{label}.npy", ev)
    out = tmp_path / "g.pt"
    proc = snnc("--dataset", str(tmp_path / "gesture"), "--T", "4", "--widths", "4,4,4", "--epochs", "1",
                "--json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["train_samples"] == 3 and summary["test_samples"] == 3
    from snnc.models.checkpoint import load_checkpoint

    _, ckpt = load_checkpoint(out)
    assert ckpt["config"]["num_classes"] == 11 and ckpt["config"]["input_size"] == [32, 32]
    assert ckpt["train"]["dataset"] == str(tmp_path / "gesture")
