"""Training's learning-rate warm-up and its silent-output report, against Adam's and the model's own arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from snnc.data import load_dataset
from snnc.models import demo_config
from snnc.models.registry import build_model
from snnc.train import deterministic, evaluate, evaluate_outputs, train_model, warmup_factor

CFG = {**demo_config("none"), "T": 4, "widths": [4, 8, 8], "fc_hidden": 32}


def data(n: int, seed: int = 0):
    return load_dataset("synthetic", "train", n, 4, seed), load_dataset("synthetic", "test", 16, 4, seed)


@settings(max_examples=10, deadline=None)
@given(warmup=st.integers(0, 7), lr=st.sampled_from([1e-3, 5e-4, 3e-5]))
def test_each_step_runs_at_the_warmed_up_rate(warmup, lr):
    """The rate the optimizer holds at step k is lr * min(1, (k+1)/N): read from torch's Adam, step by step."""
    train, test = data(40)
    seen: list[float] = []
    train_model(CFG, train, test, epochs=2, batch_size=8, lr=lr, seed=1, warmup_steps=warmup,
                on_step=lambda s: seen.append(s["lr"]))
    expected = [lr * (1.0 if warmup == 0 else min(1.0, (k + 1) / warmup)) for k in range(10)]
    assert seen == pytest.approx(expected, rel=1e-12, abs=0)
    assert [warmup_factor(k, warmup) * lr for k in range(10)] == pytest.approx(seen, rel=1e-12, abs=0)


def test_one_warmup_step_is_no_warmup_bit_for_bit():
    train, test = data(32)
    a = train_model(CFG, train, test, epochs=2, batch_size=8, lr=1e-3, seed=2)
    b = train_model(CFG, train, test, epochs=2, batch_size=8, lr=1e-3, seed=2, warmup_steps=1)
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka


@pytest.mark.parametrize("warmup", [4, 50])
def test_adams_first_step_moves_no_weight_by_more_than_the_warmed_up_rate(warmup):
    """Adam's first update is lr_0 * g / (|g| + eps): at most lr_0 = lr / N in every coordinate (plus the
    float32 rounding of w - update, one spacing of w), and some coordinate moves by almost exactly that much."""
    lr = 1e-2
    train, test = data(8)
    with deterministic(3):
        before = {k: v.detach().clone() for k, v in build_model(CFG).named_parameters()}
    after = dict(train_model(CFG, train, test, epochs=1, batch_size=8, lr=lr, seed=3,
                             warmup_steps=warmup).model.named_parameters())
    lr0 = lr / warmup
    for k, v in before.items():
        moved = (after[k].detach() - v).abs().numpy()
        rounding = np.spacing(np.abs(v.numpy()) + np.float32(lr0))
        assert (moved <= lr0 * (1 + 1e-6) + rounding).all(), k
    largest = max(float((after[k].detach() - v).abs().max()) for k, v in before.items())
    assert largest > lr0 * 0.99


def test_silent_outputs_are_the_classes_that_never_fire():
    train, test = data(32)
    model = train_model(CFG, train, test, epochs=1, batch_size=8, lr=1e-3, seed=4).model.eval()
    frames, labels = test
    out = model.blocks[-1].fc
    with torch.no_grad():
        out.bias[[1, 5]] = -1e4  # these two can never reach the threshold
        out.bias[[0, 2, 3, 4, 6, 7]] = 1e4  # these fire on every step
    accuracy, nasfr, silent = evaluate_outputs(model, frames, labels, batch_size=5)
    assert silent == [1, 5]
    assert (accuracy, nasfr) == evaluate(model, frames, labels, batch_size=5)
    with torch.no_grad():  # the same classes from the model's own forward over the whole set at once
        rates = model(torch.from_numpy(frames))
    assert np.flatnonzero(rates.amax(dim=0).numpy() == 0).tolist() == silent


def test_training_reports_its_silent_outputs():
    train, test = data(32)
    result = train_model(CFG, train, test, epochs=1, batch_size=8, lr=1e-3, seed=5)
    assert result.silent_outputs == evaluate_outputs(result.model, *test)[2]


def test_warmup_must_be_a_count():
    train, test = data(8)
    with pytest.raises(ValueError, match="warmup_steps"):
        train_model(CFG, train, test, epochs=1, batch_size=8, lr=1e-3, seed=0, warmup_steps=-1)
