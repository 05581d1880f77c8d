"""Training of the ASA-SNN family, as released: Adam, MSE between output rates and one-hot labels.

Seeded and deterministic: the same config, data and seed give bit-identical weights (torch and
NumPy seeded, batches drawn from a seeded generator, a fixed thread count). The reported
accuracy is that of the final epoch on the held-out test split (the released code reports the best
epoch, selected on the test set; snnc does not). The mean firing rate is NASFR: the
neuron-count-weighted mean rate over all spiking layers, output included (spikes / (neurons * T * N)).

**Silent outputs.** The rectangular surrogate passes a gradient only while a membrane lies within ``a`` of
the threshold. An output neuron that never fires on the held-out set is at best near that window's lower edge,
and once its membrane stays below it on every step its class gets no gradient and can no longer be learned.
Training reports these classes (``TrainResult.silent_outputs``); at the paper size they are why the vanilla
network stalls on ``synthetic-hard`` (docs/results.md §11).
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
    #: output classes whose neuron fired on no step of any held-out sample
    silent_outputs: list[int] = field(default_factory=list)


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
def evaluate_outputs(model: nn.Module, frames: np.ndarray, labels: np.ndarray,
                     batch_size: int = 64) -> tuple[float, float, list[int]]:
    """(accuracy, NASFR, silent output classes) of ``model`` in eval mode on frames (N, T, C, H, W)."""
    was_training = model.training
    model.eval()
    correct, spikes, slots = 0, 0.0, 0.0
    fired: torch.Tensor | None = None
    for i in range(0, len(frames), batch_size):
        rec = model.forward_record(torch.from_numpy(frames[i:i + batch_size]))
        rates = rec["rates"]
        correct += int((rates.argmax(dim=1).numpy() == labels[i:i + batch_size]).sum())
        seen = (rates > 0).any(dim=0)
        fired = seen if fired is None else fired | seen
        for s in model.spiking_layers(rec).values():
            spikes += float(s.sum())
            slots += float(s.numel())
    model.train(was_training)
    silent = [] if fired is None else [int(c) for c in torch.nonzero(~fired).flatten()]
    return correct / max(len(frames), 1), spikes / max(slots, 1.0), silent


def evaluate(model: nn.Module, frames: np.ndarray, labels: np.ndarray, batch_size: int = 64) -> tuple[float, float]:
    """(accuracy, NASFR) of ``model`` in eval mode on frames (N, T, C, H, W)."""
    accuracy, nasfr, _ = evaluate_outputs(model, frames, labels, batch_size)
    return accuracy, nasfr


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The learning-rate multiplier of optimizer step ``step`` (0-based): a linear warm-up
    min(1, (step + 1) / warmup_steps), 1 throughout when ``warmup_steps`` is 0."""
    return 1.0 if warmup_steps <= 0 else min(1.0, (step + 1) / warmup_steps)


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
                weight_grad: str = "exact", warmup_steps: int = 0,
                on_step: Callable[[dict[str, float]], None] | None = None) -> TrainResult:
    """Train ``build_model(config)`` on ``train`` and evaluate on ``test``; deterministic in ``seed``.

    ``warmup_steps``: the learning rate of optimizer step k is ``lr * warmup_factor(k, warmup_steps)``
    (torch's ``LambdaLR``); 0 keeps it at ``lr`` and gives the same bits as a trainer without the option.

    ``weight_grad``: "exact" (autograd's dense convolution gradients: bit-identical to the autograd graph) or
    "event" (the convolutions' weight gradients from their non-zero inputs only, :mod:`snnc.models.spike_conv`:
    faster, equal to float32 rounding, still bit-reproducible)."""
    if weight_grad not in spike_conv.WEIGHT_GRADS:
        raise ValueError(f"weight_grad must be one of {spike_conv.WEIGHT_GRADS}, got {weight_grad!r}")
    if not (isinstance(warmup_steps, int) and warmup_steps >= 0):
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    x_train, y_train = train
    classes = int(config.get("num_classes", 0)) or int(y_train.max()) + 1
    start = time.perf_counter()
    history: list[dict[str, float]] = []
    with deterministic(seed), spike_conv.event_weight_grad(weight_grad == "event"):
        model = build_model(config)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: warmup_factor(k, warmup_steps)) \
            if warmup_steps else None
        gen = torch.Generator().manual_seed(seed)
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(x_train), generator=gen).numpy()
            total_loss, correct = 0.0, 0
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                y = torch.from_numpy(y_train[idx])
                step_lr = opt.param_groups[0]["lr"]
                loss, rates = train_step(model, opt, torch.from_numpy(x_train[idx]), y, classes)
                if schedule is not None:
                    schedule.step()
                total_loss += float(loss.detach()) * len(idx)
                correct += int((rates.argmax(dim=1) == y).sum())
                if on_step is not None:
                    on_step({"epoch": epoch, "seen": i + len(idx), "loss": total_loss / (i + len(idx)),
                             "accuracy": correct / (i + len(idx)), "lr": step_lr})
            history.append({"epoch": epoch, "loss": total_loss / len(order), "train_accuracy": correct / len(order)})
        model.eval()
        accuracy, rate, silent = evaluate_outputs(model, *test)
    return TrainResult(model, accuracy, rate, time.perf_counter() - start, history, silent)
