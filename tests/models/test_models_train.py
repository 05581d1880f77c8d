"""Training: deterministic in the seed, learns a tiny model; the demo acceptance run is ``slow``."""

from __future__ import annotations

import pytest
import torch

from snnc.data import load_dataset
from snnc.models import demo_config
from snnc.models.registry import DEMO_TRAINING
from snnc.train import evaluate, train_model


def tiny_run(seed: int, attention: str = "asa", epochs: int = 1):
    cfg = {**demo_config(attention), "T": 4, "widths": [4, 8, 8], "fc_hidden": 32}
    train = load_dataset("synthetic", "train", 64, 4, seed)
    test = load_dataset("synthetic", "test", 32, 4, seed)
    return train_model(cfg, train, test, epochs=epochs, batch_size=16, lr=2e-3, seed=seed), test


def test_training_is_bit_identical_for_the_same_seed():
    a, _ = tiny_run(3)
    b, _ = tiny_run(3)
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    assert a.test_accuracy == b.test_accuracy and a.mean_firing_rate == b.mean_firing_rate


def test_different_seeds_give_different_weights():
    a, _ = tiny_run(3)
    b, _ = tiny_run(4)
    assert not torch.equal(a.model.blocks[0].conv.weight, b.model.blocks[0].conv.weight)


def test_evaluate_reports_nasfr():
    result, (frames, labels) = tiny_run(5)
    acc, rate = evaluate(result.model, frames, labels, batch_size=7)
    assert (acc, rate) == (result.test_accuracy, result.mean_firing_rate)
    with torch.no_grad():
        rec = result.model.forward_record(torch.from_numpy(frames))
    layers = result.model.spiking_layers(rec)
    assert list(layers) == ["b0", "b1", "b2", "b3", "b4"]
    total = sum(float(s.sum()) for s in layers.values()) / sum(s.numel() for s in layers.values())
    assert rate == pytest.approx(total, rel=1e-6)


def test_smoke_training_beats_chance():
    result, _ = tiny_run(0, "asa", epochs=8)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.test_accuracy >= 0.3  # 8 balanced classes: chance is 0.125


@pytest.mark.slow
@pytest.mark.parametrize("attention", ["none", "asa"])
def test_demo_models_reach_090_on_held_out_data(attention):
    torch.set_num_threads(2)
    cfg = demo_config(attention)
    d = DEMO_TRAINING
    train = load_dataset("synthetic", "train", d["train_samples"], cfg["T"], 0)
    test = load_dataset("synthetic", "test", d["test_samples"], cfg["T"], 0)
    result = train_model(cfg, train, test, epochs=d["epochs"], batch_size=d["batch_size"], lr=d["lr"], seed=0)
    assert result.test_accuracy >= 0.90
