"""Checkpoint round trip and refusal of bad files (one-line SnncError naming the file)."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest
import torch

from snnc.errors import SnncError
from snnc.models import build_model, demo_config
from snnc.models.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint

META = {"dataset": "synthetic", "samples": 0, "seconds": 0.0, "snnc_version": "0", "torch": torch.__version__}
HP = {"lr": 1e-3, "epochs": 1, "batch_size": 4, "seed": 0, "loss": "mse"}


@pytest.fixture
def saved(tmp_path):
    model = build_model(demo_config("asa")).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, hparams=HP, train_meta=META, test_accuracy=0.5, mean_firing_rate=0.1)
    return model, path


def test_round_trip_gives_identical_model(saved):
    model, path = saved
    loaded, ckpt = load_checkpoint(path)
    assert ckpt["format"] == "snnc-checkpoint" and ckpt["format_version"] == 1
    assert ckpt["config"] == model.config and ckpt["hparams"] == HP and ckpt["test_accuracy"] == 0.5
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)
    x = (torch.rand(2, 8, 2, 32, 32) < 0.3).float()
    with torch.no_grad():
        a, b = model.forward_record(x), loaded.forward_record(x)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not loaded.training


def test_no_temporary_files_left(saved):
    _, path = saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]


def test_save_into_missing_directory_fails_cleanly(tmp_path):
    model = build_model(demo_config("none"))
    with pytest.raises(SnncError, match="does not exist"):
        save_checkpoint(tmp_path / "nope" / "m.pt", model, hparams=HP, train_meta=META)


class Evil:
    def __reduce__(self):
        return (print, ("executed",))


def _truncated(path, tmp_path):
    data = path.read_bytes()
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(data[: len(data) // 2])
    return bad


def _random(path, tmp_path):
    bad = tmp_path / "random.pt"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    return bad


def _pickled(path, tmp_path):
    bad = tmp_path / "pickled.pt"
    torch.save({"format": "snnc-checkpoint", "evil": Evil()}, bad)
    return bad


def _plain_pickle(path, tmp_path):
    bad = tmp_path / "plain.pkl"
    bad.write_bytes(pickle.dumps(Evil()))
    return bad


def _unknown_model(path, tmp_path):
    ckpt = torch.load(path, weights_only=True)
    ckpt["config"]["model"] = "lif-snn-99"
    bad = tmp_path / "unknown.pt"
    torch.save(ckpt, bad)
    return bad


def _wrong_weights(path, tmp_path):
    ckpt = torch.load(path, weights_only=True)
    ckpt["config"]["widths"] = [4, 4, 4]
    bad = tmp_path / "mismatch.pt"
    torch.save(ckpt, bad)
    return bad


def _foreign_dict(path, tmp_path):
    bad = tmp_path / "state.pt"
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    return bad


def _missing(path, tmp_path):
    return tmp_path / "absent.pt"


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("make, message", [
    (_truncated, "not a readable checkpoint"),
    (_random, "not a readable checkpoint"),
    (_pickled, "not a readable checkpoint"),
    (_plain_pickle, "not a readable checkpoint"),
    (_unknown_model, "unknown model"),
    (_wrong_weights, "weights do not match"),
    (_foreign_dict, "not an snnc checkpoint"),
    (_missing, "no such checkpoint file"),
])
def test_bad_files_are_refused(saved, tmp_path, capsys, make, message):
    _, path = saved
    bad = make(path, tmp_path)
    with pytest.raises(SnncError, match=message) as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    assert "executed" not in capsys.readouterr().out


def test_checkpoint_is_a_plain_zip_of_tensors(saved):
    _, path = saved
    assert zipfile.is_zipfile(path)
    ckpt = make_checkpoint(build_model(demo_config("none")), hparams=HP, train_meta=META,
                           test_accuracy=None, mean_firing_rate=None)
    assert all(isinstance(v, torch.Tensor) for v in ckpt["state_dict"].values())
