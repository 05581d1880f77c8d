"""Training speed at the paper's size: the fused LIF and ASA kernels, and the event-driven conv weight gradient,
against the step-by-step autograd graph.

    .venv/bin/python bench/run_all.py --only train        (or: .venv/bin/python bench/bench_train.py [--quick])

Setup: LIF-SNN-3 at the released size (2×32×32, widths 64/128/128, FC 8192→256→11, T = 60, dropout 0.1),
vanilla and ASA; ``snnc.train.train_step`` (one step of the trainer ``snnc train`` runs: forward, MSE on rates,
backward, Adam) on synthetic DVS-gesture samples, batch 16, torch with 2 threads. The three paths train a model
of the same seed on the same batches, their steps interleaved (old, new, event, old, ...): 1 warm-up batch each,
then the timed batches (median). "old" is the autograd loop over T (``snnc.models.fused_lif.reference()``, the
trainer before issue 16, with ASA's torch graph); "new" the default ``--weight-grad exact``: the fused C++ LIF
forward/backward (``models/csrc/lif_train.cpp``) and, for ASA, its full-size element-wise work in single passes
(``models/csrc/asa_train.cpp``, :mod:`snnc.models.fused_asa`); "event" is ``--weight-grad event``: "new" plus the
convolutions' weight gradients from their non-zero (spike) inputs only (``models/csrc/spike_conv_grad.cpp``,
:mod:`snnc.models.spike_conv`). "new" computes autograd's float32 operations, so its weights are compared with
"old" byte for byte; "event" sums the weight gradients in another order, so its weights after the same steps
are reported as the largest difference (Adam turns a rounding-level gradient difference into up to ±lr per step
on weights whose gradient is near zero, such as the conv biases before BatchNorm).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np
import torch

PAPER = dict(model="lif-snn-3", T=60, in_channels=2, input_size=[32, 32], num_classes=11, widths=[64, 128, 128],
             fc_hidden=256, dropout=0.1)
QUICK = dict(PAPER, T=8, widths=[16, 32, 32], fc_hidden=64)
BATCH = 16


PATHS = ("old", "new", "event")


def _mode(path: str):
    """The context a path's steps run in (module docstring)."""
    from snnc.models import fused_lif, spike_conv

    if path == "old":
        return fused_lif.reference()
    return spike_conv.event_weight_grad(path == "event")


def _interleaved(config: dict, data: tuple, batches: int) -> tuple[dict[str, list[float]], dict[str, dict]]:
    """Seconds per timed batch of each path (:data:`PATHS`) and the final state dicts. All paths start from the
    same seeded model and see the same batches; their steps alternate (old, new, event, old, ...) after one
    warm-up step each, and each path keeps its own random stream (dropout masks), so each trains exactly as
    ``train_model`` would."""
    from snnc.models.registry import build_model
    from snnc.train import train_step

    x, y = (torch.from_numpy(a) for a in data)
    paths = {}
    for path in PATHS:
        torch.manual_seed(0)
        model = build_model(config)
        model.train()
        paths[path] = [model, torch.optim.Adam(model.parameters(), lr=5e-4), torch.get_rng_state()]
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    for b in range(batches + 1):
        xb, yb = x[b * BATCH:(b + 1) * BATCH], y[b * BATCH:(b + 1) * BATCH]
        for path, (model, opt, rng) in paths.items():
            torch.set_rng_state(rng)
            with _mode(path):
                start = time.perf_counter()
                train_step(model, opt, xb, yb, config["num_classes"])
                seconds = time.perf_counter() - start
            paths[path][2] = torch.get_rng_state()
            if b > 0:
                times[path].append(seconds)
            print(f"[bench_train] {config['attention']} {path} batch {b}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return times, {path: p[0].state_dict() for path, p in paths.items()}


def _same_bytes(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k].numpy().tobytes() == b[k].numpy().tobytes() for k in a)


def _largest_difference(a: dict, b: dict) -> float:
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a if a[k].is_floating_point())


def section(quick: bool = False) -> str:
    """The markdown section: samples/s old vs new at the paper size, same run, and the ratio."""
    from snnc.data import load_dataset
    from snnc.models import fused_asa, fused_lif, spike_conv

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    config, batches = (QUICK, 1) if quick else (PAPER, 2)
    try:
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        available = all(k.extension() is not None for k in (fused_lif, fused_asa, spike_conv))
        load_s = time.perf_counter() - t0
        data = load_dataset("synthetic", "train", BATCH * (batches + 1), config["T"], 0)
        data = (data[0], data[1] % config["num_classes"])
        rows = []
        for att in ("none", "asa"):
            times, states = _interleaved(dict(config, attention=att), data, batches)
            rows.append((att, {p: statistics.median(times[p]) for p in PATHS}, _same_bytes(states["old"], states["new"]),
                         _largest_difference(states["new"], states["event"])))
        load_after = os.getloadavg()[0]
    finally:
        torch.set_num_threads(threads)
    size = "paper size" if not quick else "quick smoke size"
    lines = [
        f"## Training speed ({size}: fused kernels and event-driven weight gradients vs autograd graph)",
        "",
        __doc__.split("\n\n", 2)[2].strip(),
        "",
        f"Config: widths {config['widths']}, FC {config['fc_hidden']}, T = {config['T']}, batch {BATCH}, "
        f"{batches} timed batches per path after 1 warm-up (median); kernels "
        f"{'loaded' if available else 'NOT ALL AVAILABLE (a path without its kernel ran torch)'} in {load_s:.1f} s "
        f"(a first build takes ~30-70 s). Load average (1 min) {load_before:.1f} at the start, {load_after:.1f} at "
        "the end. Interleaving does not make load harmless: under load the old path (many small operations) slows "
        "down more than the new one and the ratio grows, so only a run at load ~2 (this process alone) measures "
        "it.",
        "",
        "| attention | old: autograd graph, samples/s | new: fused kernels (`--weight-grad exact`), samples/s | "
        "speed-up | event: + event-driven weight gradients (`--weight-grad event`), samples/s | speed-up | "
        "weights, old = new byte for byte | weights, largest \\|new − event\\| |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for att, t, same, diff in rows:
        name = "vanilla (none)" if att == "none" else "ASA"
        lines.append(f"| {name} | {BATCH / t['old']:.2f} ({t['old']:.1f} s/batch) | {BATCH / t['new']:.2f} "
                     f"({t['new']:.1f} s/batch) | {t['old'] / t['new']:.2f}× | {BATCH / t['event']:.2f} "
                     f"({t['event']:.1f} s/batch) | {t['old'] / t['event']:.2f}× | {'yes' if same else 'NO'} | "
                     f"{diff:.1e} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(section(quick="--quick" in sys.argv))
