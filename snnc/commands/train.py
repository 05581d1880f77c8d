"""``snnc train``: train an ASA-SNN family model and write an snnc checkpoint."""

from __future__ import annotations

import json
import sys

import click

from snnc import options as opt
from snnc.errors import SnncError

# the demo training settings (kept in sync with snnc.models.registry.DEMO_TRAINING by a test;
# repeated here so that `snnc train --help` does not import torch)
DEMO = {"epochs": 6, "batch_size": 32, "lr": 5e-4, "train_samples": 800, "test_samples": 400, "T": 8}
MODELS = ("lif-snn-3", "lif-snn-5", "res-snn-18")


def _parse_widths(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        widths = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        raise SnncError(f"--widths {text!r}: expected comma-separated positive integers, e.g. 8,16,16") from None
    if not widths or any(w <= 0 for w in widths):
        raise SnncError(f"--widths {text!r}: expected comma-separated positive integers, e.g. 8,16,16")
    return widths


def build_config(model: str, attention: str, T: int, classes: int, input_size: list[int],
                 widths: list[int] | None, width_scale: float | None) -> dict:
    """The model config for ``snnc train``: the demo LIF-SNN-3, or a model's released defaults."""
    from snnc.models.registry import _BUILDERS, demo_config

    if model == "lif-snn-3":
        config = demo_config(attention)
    else:
        config = {"model": model, "attention": attention}
    config.update(T=T, num_classes=classes, input_size=list(input_size), in_channels=2)
    if width_scale is not None:
        if width_scale <= 0:
            raise SnncError(f"--width-scale {width_scale}: must be positive")
        defaults = _BUILDERS[model][1]
        config["widths"] = [max(1, round(w * width_scale)) for w in defaults["widths"]]
        if "fc_hidden" in defaults:
            config["fc_hidden"] = max(1, round(defaults["fc_hidden"] * width_scale))
    if widths is not None:
        config["widths"] = widths
    return config


@click.command("train")
@click.option("--model", "model", type=click.Choice(MODELS, case_sensitive=False), default="lif-snn-3",
              show_default=True, help="Network architecture.")
@click.option("--attention", type=click.Choice(("none", "asa", "ta", "ca", "sa", "tcsa"), case_sensitive=False),
              default="asa", show_default=True, help="Attention in the conv layers: none = vanilla SNN, asa = ASA-SNN; "
              "ta/ca/sa/tcsa = MA-SNN's temporal, channel, spatial attention and their combination.")
@click.option("--squeeze", type=click.Choice(("s5", "s7", "s8")), default=None,
              help="ASA squeeze (Table S7): s5 hybrid (released, default), s7 avg, s8 ½(avg+max).")
@click.option("--excitation", type=click.Choice(("mlp", "eca", "simam")), default=None,
              help="ASA excitation (Table S8): mlp (released, default), eca (1-D conv, 'CID'), simam.")
@click.option("--reduction", type=opt.Count(1, 4096), default=None,
              help="ASA reduction factor r (Table S9); default: the model's (demo 2).")
@click.option("--dataset", default="synthetic", show_default=True, metavar="synthetic|synthetic-hard|PATH",
              help="'synthetic', 'synthetic-hard' (11 DVS-Gesture-like classes, noise and bursts) or a DVS128 "
              "Gesture folder in tonic's layout (user*/<label>.npy).")
@click.option("--T", "T", type=opt.STEPS, default=DEMO["T"], show_default=True, help="Timesteps per sample.")
@click.option("--epochs", type=opt.EPOCHS, default=DEMO["epochs"], show_default=True)
@click.option("--batch-size", type=opt.BATCH, default=DEMO["batch_size"], show_default=True)
@click.option("--lr", type=opt.POSITIVE, default=DEMO["lr"], show_default=True,
              help="Adam learning rate.")
@click.option("--train-samples", type=opt.SAMPLES, default=None,
              help=f"Training samples (synthetic: generated, default {DEMO['train_samples']}; "
              "folder: the first N sorted recordings, default all).")
@click.option("--test-samples", type=opt.SAMPLES, default=None,
              help=f"Held-out test samples (synthetic: an independent stream of the same seed, default "
              f"{DEMO['test_samples']}; folder: default all).")
@click.option("--seed", type=opt.SEED, default=0, show_default=True, help="Seed of data, init and batch order.")
@click.option("--widths", default=None, metavar="W1,W2,...", help="Conv widths (e.g. 8,16,16 for lif-snn-3).")
@click.option("--width-scale", type=opt.WIDTH_SCALE, default=None,
              help="Scale the model's released widths (and FC hidden size) by this factor.")
@click.option("-o", "--output", default="model.pt", show_default=True, type=click.Path(dir_okay=False),
              help="Checkpoint to write (atomically).")
@click.option("--weight-grad", type=click.Choice(("exact", "event")), default="exact", show_default=True,
              help="exact: autograd's convolution gradients (bit-identical to the autograd graph); event: the "
                   "conv weight gradients from the non-zero (spike) inputs only, steps 1.2-1.3x faster at the "
                   "paper size, equal to float32 rounding and still bit-reproducible.")
@click.option("--warmup-steps", type=click.IntRange(min=0), default=0, show_default=True,
              help="Raise the learning rate linearly over the first N optimizer steps (lr * min(1, (k+1)/N) at "
                   "step k); 0 = constant lr, as released.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of a progress bar.")
def command(model, attention, squeeze, excitation, reduction, dataset, T, epochs, batch_size, lr, train_samples,
            test_samples, seed, widths, width_scale, weight_grad, warmup_steps, output, as_json) -> None:
    """Train a model (vanilla or ASA) with Adam on MSE(rates, one-hot) and write OUTPUT."""
    from snnc.io import check_writable_target

    if T <= 0:
        raise SnncError(f"--T {T}: must be a positive integer")
    if width_scale is not None and not width_scale > 0:
        raise SnncError(f"--width-scale {width_scale}: must be positive")
    check_writable_target(output, "--output")
    from snnc.paths import guard_outputs  # held until the command returns (checked before any work)

    click.get_current_context().with_resource(guard_outputs(
        inputs=[("--dataset", None if dataset in ("synthetic", "synthetic-hard") else dataset)], outputs=[("-o", output)]))
    width_list = _parse_widths(widths)

    import torch

    torch.set_num_threads(_threads())
    from snnc.data import dataset_classes, dataset_frame_size, load_dataset
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import build_model

    config = build_config(model.lower(), attention.lower(), T, dataset_classes(dataset),
                          list(dataset_frame_size(dataset)), width_list, width_scale)
    config.update({k: v for k, v in (("squeeze", squeeze), ("excitation", excitation), ("reduction", reduction))
                   if v is not None})
    build_model(config)  # validate before spending time on data and training
    if dataset in ("synthetic", "synthetic-hard"):
        train_samples = train_samples or DEMO["train_samples"]
        test_samples = test_samples or DEMO["test_samples"]
    train = load_dataset(dataset, "train", train_samples, T, seed)
    test = load_dataset(dataset, "test", test_samples, T, seed)
    steps = epochs * ((len(train[0]) + batch_size - 1) // batch_size)
    result = _run(config, train, test, dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                                            weight_grad=weight_grad, warmup_steps=warmup_steps),
                  steps, show=not as_json and sys.stderr.isatty())
    import snnc

    hparams = {"lr": lr, "epochs": epochs, "batch_size": batch_size, "seed": seed, "loss": "mse", "optimizer": "adam",
               "weight_grad": weight_grad}
    if warmup_steps:
        hparams["warmup_steps"] = warmup_steps
    meta = {"dataset": dataset, "samples": int(len(train[0])), "test_samples": int(len(test[0])),
            "seconds": round(result.seconds, 3), "snnc_version": snnc.__version__, "torch": str(torch.__version__),
            "history": result.history, "silent_outputs": result.silent_outputs}
    save_checkpoint(output, result.model, hparams=hparams, train_meta=meta, test_accuracy=result.test_accuracy,
                    mean_firing_rate=result.mean_firing_rate)
    summary = {"output": str(output), "model": config["model"], "attention": config["attention"], "T": T,
               "test_accuracy": result.test_accuracy, "mean_firing_rate": result.mean_firing_rate,
               "seconds": round(result.seconds, 3), "train_samples": int(len(train[0])),
               "test_samples": int(len(test[0])), "epochs": epochs, "seed": seed,
               "silent_outputs": result.silent_outputs}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"wrote {output}: test accuracy {result.test_accuracy:.3f}, mean firing rate "
                   f"{result.mean_firing_rate:.4f}, {result.seconds:.1f} s")
        if result.silent_outputs:
            click.echo(f"warning: {len(result.silent_outputs)} of {config['num_classes']} output neurons never fired "
                       f"on the test set (classes {', '.join(map(str, result.silent_outputs))}): the rectangular "
                       "surrogate gives them no gradient, so these classes cannot be learned; try a lower --lr or "
                       "--warmup-steps", err=True)


def _threads() -> int:
    """2 torch threads (the reference machine has 2 cores), fewer if OMP_NUM_THREADS asks for it."""
    import os

    try:
        return max(1, min(2, int(os.environ.get("OMP_NUM_THREADS", "2"))))
    except ValueError:
        return 2


def _run(config, train, test, how, steps, show):
    """``train_model(config, train, test, **how)``, with a progress bar when ``show``."""
    from snnc.train import train_model

    epochs = how["epochs"]
    if not show:
        return train_model(config, train, test, **how)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("epoch {task.fields[epoch]}"), BarColumn(), TextColumn("loss {task.fields[loss]:.4f}"),
               TextColumn("acc {task.fields[acc]:.3f}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("train", total=steps, epoch=1, loss=0.0, acc=0.0)
        done = {"n": 0}

        def on_step(s):
            done["n"] += 1
            bar.update(task, completed=done["n"], epoch=f"{s['epoch'] + 1}/{epochs}", loss=s["loss"], acc=s["accuracy"])

        result = train_model(config, train, test, **how, on_step=on_step)
    return result
