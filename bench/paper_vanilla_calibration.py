"""Why the paper-size vanilla network stalls on synthetic-hard, and what the recipe can do about it (issue 16).

Two modes, both printing one JSON line per model (not a benchmark section: ``make bench`` skips it):

    # silent outputs and per-class accuracy of trained checkpoints, on each one's own held-out samples
    python bench/paper_vanilla_calibration.py --checkpoint build/experiment-paper/seed0/vanilla/model.pt ...

    # train one paper-size run with the experiment's config and budget, changing only lr / warm-up
    OMP_NUM_THREADS=1 python bench/paper_vanilla_calibration.py --train --attention none --warmup-steps 62

``--train`` builds the config ``snnc experiment --size paper --data synthetic-hard`` trains (the released
sizes, dropout 0.1) and the budget of ``PAPER_BUDGET`` (8 epochs x 495 samples, batch 16, 220 held-out samples,
lr 1e-4 unless ``--lr``), except the recipe: ``--warmup-steps`` defaults to 0 (the first recipe's constant rate,
which the calibration compared against) and ``--weight-grad`` to event. About 45 min at one thread beside
another run (session 9; 80-90 min on session 8's machine). Same arguments and thread count -> the same bits.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _report(model, test, **extra) -> dict:
    import numpy as np
    import torch

    from snnc.train import evaluate_outputs

    x, y = test
    accuracy, nasfr, silent = evaluate_outputs(model, x, y, batch_size=22)
    with torch.no_grad():
        pred = np.concatenate([model(torch.from_numpy(x[i:i + 22])).argmax(dim=1).numpy() for i in range(0, len(x), 22)])
    per_class = [round(float(np.mean(pred[y == c] == c)), 3) for c in range(int(y.max()) + 1)]
    return {**extra, "accuracy": accuracy, "nasfr": round(nasfr, 5), "silent_outputs": silent, "per_class": per_class}


def checkpoints(paths: list[str]) -> None:
    from snnc.data import load_dataset
    from snnc.models.checkpoint import load_checkpoint

    for path in paths:
        model, meta = load_checkpoint(path)
        seed = int(meta["hparams"]["seed"])
        test = load_dataset(meta["train"]["dataset"], "test", int(meta["train"]["test_samples"]), int(meta["config"]["T"]),
                            seed)
        print(json.dumps(_report(model.eval(), test, checkpoint=path, seed=seed, attention=meta["config"]["attention"],
                                 recorded_accuracy=meta.get("test_accuracy"))), flush=True)


def train(args) -> None:
    from dataclasses import replace

    from snnc.data import load_dataset
    from snnc.experiment.paper_results import PAPER_BUDGET
    from snnc.experiment.runner import Settings, base_config
    from snnc.experiment.variants import BY_NAME
    from snnc.models.registry import complete_config
    from snnc.train import train_model

    budget = {**PAPER_BUDGET, **({"lr": args.lr} if args.lr else {}),  # what this run trains
              "warmup_steps": args.warmup_steps, "weight_grad": args.weight_grad}
    settings = replace(Settings(data="synthetic-hard", size="paper", T=60, seed=args.seed), **budget)
    variant = {"none": "vanilla"}.get(args.attention, args.attention)
    config = complete_config(BY_NAME[variant].config(base_config(settings, 11, (32, 32))))
    train_set = load_dataset("synthetic-hard", "train", settings.train_samples, 60, args.seed)
    test = load_dataset("synthetic-hard", "test", settings.test_samples, 60, args.seed)
    start = time.perf_counter()
    res = train_model(config, train_set, test, epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
                      seed=args.seed, weight_grad=settings.weight_grad, warmup_steps=settings.warmup_steps)
    print(json.dumps(_report(res.model, test, variant=variant, seed=args.seed, lr=settings.lr,
                             warmup_steps=settings.warmup_steps, weight_grad=settings.weight_grad,
                             seconds=round(time.perf_counter() - start), history=res.history)), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", nargs="+", help="trained checkpoints to inspect")
    ap.add_argument("--train", action="store_true", help="train one paper-size run")
    ap.add_argument("--attention", default="none", choices=("none", "asa", "tcsa"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=None, help="default: PAPER_BUDGET's")
    ap.add_argument("--warmup-steps", type=int, default=0)
    ap.add_argument("--weight-grad", default="event", choices=("exact", "event"))
    args = ap.parse_args()
    import os

    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    if args.checkpoint:
        checkpoints(args.checkpoint)
    if args.train:
        train(args)
    if not (args.checkpoint or args.train):
        ap.error("give --checkpoint PATH... or --train")


if __name__ == "__main__":
    main()
