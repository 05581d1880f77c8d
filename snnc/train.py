"""Training of the ASA-SNN family, as released: Adam, MSE between output rates and one-hot labels.

Seeded and deterministic: the same config, data and seed give bit-identical weights (torch and
NumPy seeded, batches drawn from a seeded generator, a fixed thread count). The reported
accuracy is that of the final epoch on the held-out test split (the released code reports the best
epoch, selected on the test set; snnc does not). The mean firing rate is NASFR: the
neuron-count-weighted mean rate over all spiking layers, output included (spikes / (neurons * T * N)).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from snnc.models import spike_conv
from snnc.models.registry import build_model


@dataclass
class TrainResult:
    model: nn.Module
    test_accuracy: float
    mean_firing_rate: float
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


@contextlib.contextmanager
def deterministic(seed: int):
    """Seed torch and NumPy for the duration.

    ``torch.use_deterministic_algorithms`` is not switched on: in torch 2.13 it imports
    ``torch._inductor`` (about 8 s on a 2-core machine), and every CPU kernel used here (conv,
    batch norm, linear, sort, scatter) is deterministic for a fixed thread count anyway.
    """
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    yield


@torch.no_grad()
def evaluate(model: nn.Module, frames: np.ndarray, labels: np.ndarray, batch_size: int = 64) -> tuple[float, float]:
    """(accuracy, NASFR) of ``model`` in eval mode on frames (N, T, C, H, W)."""
    was_training = model.training
    model.eval()
    correct, spikes, slots = 0, 0.0, 0.0
    for i in range(0, len(frames), batch_size):
        rec = model.forward_record(torch.from_numpy(frames[i:i + batch_size]))
        correct += int((rec["rates"].argmax(dim=1).numpy() == labels[i:i + batch_size]).sum())
        for s in model.spiking_layers(rec).values():
            spikes += float(s.sum())
            slots += float(s.numel())
    model.train(was_training)
    return correct / max(len(frames), 1), spikes / max(slots, 1.0)


@torch.no_grad()
def evaluate_clips(model: nn.Module, clips: np.ndarray, labels: np.ndarray) -> float:
    """The released Gesture test accuracy: a recording (clips [R, K, T, C, H, W]) counts as correct
    when more than half of its K windows are classified correctly."""
    model.eval()
    correct = 0
    for rec_clips, label in zip(clips, labels):
        hits = int((model(torch.from_numpy(rec_clips)).argmax(dim=1).numpy() == label).sum())
        correct += int(2 * hits > len(rec_clips))
    return correct / max(len(labels), 1)


def train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One Adam step on MSE(rates, one-hot(y)); returns the (detached) loss and rates. The LIFs run the fused
    kernel (:mod:`snnc.models.fused_lif`, bit-identical to the autograd loop) unless it is unavailable or
    switched off with ``fused_lif.reference()``."""
    rates = model(x)
    loss = F.mse_loss(rates, F.one_hot(y, classes).to(rates.dtype))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.detach(), rates.detach()


def train_model(config: dict[str, Any], train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], *,
                epochs: int, batch_size: int, lr: float, seed: int, weight_decay: float = 0.0,
                weight_grad: str = "exact",
                on_step: Callable[[dict[str, float]], None] | None = None) -> TrainResult:
    """Train ``build_model(config)`` on ``train`` and evaluate on ``test``; deterministic in ``seed``.

    ``weight_grad``: "exact" (autograd's dense convolution gradients: bit-identical to the autograd graph) or
    "event" (the convolutions' weight gradients from their non-zero inputs only, :mod:`snnc.models.spike_conv`:
    faster, equal to float32 rounding, still bit-reproducible)."""
    if weight_grad not in spike_conv.WEIGHT_GRADS:
        raise ValueError(f"weight_grad must be one of {spike_conv.WEIGHT_GRADS}, got {weight_grad!r}")
    x_train, y_train = train
    classes = int(config.get("num_classes", 0)) or int(y_train.max()) + 1
    start = time.perf_counter()
    history: list[dict[str, float]] = []
    with deterministic(seed), spike_conv.event_weight_grad(weight_grad == "event"):
        model = build_model(config)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        gen = torch.Generator().manual_seed(seed)
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(x_train), generator=gen).numpy()
            total_loss, correct = 0.0, 0
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                y = torch.from_numpy(y_train[idx])
                loss, rates = train_step(model, opt, torch.from_numpy(x_train[idx]), y, classes)
                total_loss += float(loss.detach()) * len(idx)
                correct += int((rates.argmax(dim=1) == y).sum())
                if on_step is not None:
                    on_step({"epoch": epoch, "seen": i + len(idx), "loss": total_loss / (i + len(idx)),
                             "accuracy": correct / (i + len(idx))})
            history.append({"epoch": epoch, "loss": total_loss / len(order), "train_accuracy": correct / len(order)})
        model.eval()
        accuracy, rate = evaluate(model, *test)
    return TrainResult(model, accuracy, rate, time.perf_counter() - start, history)
