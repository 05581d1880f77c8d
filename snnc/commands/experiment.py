"""``snnc experiment``: train, compile and simulate the supplement's attention variants and ablations,
and write docs/paper-tables.md (snnc.experiment)."""

from __future__ import annotations

import json
import sys
import time

import click

from snnc import options as opt
from snnc.errors import SnncError
from snnc.executors.cli_options import executor_options

VARIANT_NAMES = ("vanilla", "ta", "ca", "sa", "tcsa", "asa", "asa-s7", "asa-s8", "asa-eca", "asa-simam",
                 "asa-r1", "asa-r4")


def _variants(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in VARIANT_NAMES]
    if bad or not names:
        raise SnncError(f"--variants {text!r}: unknown {bad or 'empty list'}; valid: {', '.join(VARIANT_NAMES)}")
    return names


@click.command("experiment")
@click.option("--data", default="synthetic", show_default=True, metavar="synthetic|synthetic-hard|PATH",
              help="'synthetic' (built-in event frames), 'synthetic-hard' (11 DVS-Gesture-like classes with "
              "direction pairs, jitter, noise and bursts) or a DVS128 Gesture folder.")
@click.option("--size", type=click.Choice(("demo", "paper")), default="demo", show_default=True,
              help="demo: widths 8/16/16, FC 64 (minutes on 2 cores); paper: the released 64/128/128, FC 256 (hours): "
              "vanilla and ASA with seeds 0-2, TCSA with seed 0 (--seed unused), each result committed to <doc folder>/"
              "results/paper/ as it finishes (committed runs are skipped; --executor ray runs them in parallel); defaults there: 8 epochs, 495 train and "
              "220 test samples, batch 16, lr 1e-4 warmed up over 62 steps, event weight gradients.")
@click.option("--T", "T", type=opt.Count(2, opt.MAX_STEPS), default=None,
              help="Timesteps per sample [default: 8 at demo size, 60 at paper size].")
@click.option("--seed", type=opt.SEED, default=0, show_default=True, help="Seed of data, init and batch order.")
@click.option("--epochs", type=opt.EPOCHS, default=6, show_default=True)
@click.option("--train-samples", type=opt.SAMPLES, default=800, show_default=True)
@click.option("--test-samples", type=opt.SAMPLES, default=400, show_default=True,
              help="Held-out samples every variant is evaluated on.")
@click.option("--calibrate", type=opt.SAMPLES, default=64, show_default=True,
              help="Training samples that calibrate the fused gains.")
@click.option("--variants", default=None, metavar="A,B,...",
              help=f"Subset to run (vanilla is always added): {', '.join(VARIANT_NAMES)}.")
@click.option("--out", default="build/experiment", show_default=True, type=click.Path(file_okay=False),
              help="Folder of checkpoints and per-variant results; a finished variant there is reused.")
@click.option("--doc", default="docs/paper-tables.md", show_default=True, type=click.Path(dir_okay=False),
              help="Markdown report to write (figures go to its folder's figures/).")
@click.option("--json", "json_out", default=None, type=click.Path(dir_okay=False),
              help="Also write all results as one JSON file.")
@click.option("--weight-grad", type=click.Choice(("exact", "event")), default="exact", show_default=True,
              help="Training's conv weight gradients: exact (autograd, bit-identical) or event (from the spike "
                   "inputs only; faster, equal to float32 rounding). Part of the settings hash when 'event'.")
@click.option("--warmup-steps", type=click.IntRange(min=0), default=0, show_default=True,
              help="Linear learning-rate warm-up over the first N optimizer steps of every variant (0: constant "
                   "lr, as released). Part of the settings hash when not 0.")
@executor_options
def command(data, size, T, seed, epochs, train_samples, test_samples, calibrate, variants, out, doc, json_out,
            weight_grad="exact", warmup_steps=0, executor="local", address=None, workers=None) -> None:
    """Reproduce the supplement's comparisons: vanilla, TA, CA, SA, TCSA and ASA (Table S3, with
    Table S1's costs), and ASA's squeeze, excitation and r ablations (Tables S7-S9).

    Each variant is trained, compiled twice (exact attention; fused TimeGains as deployed) and run on
    the CPU reference simulator; accuracy, NASFR, fidelity and analytic and measured energy go into
    DOC with the published numbers beside them. Seeded; interrupted runs resume where they stopped.

    Example: snnc experiment --variants asa,tcsa --out build/exp
    """
    from snnc.io import check_writable_target

    from snnc.executors.run import check_executor_options

    names = _variants(variants)
    check_executor_options(executor, address, workers)
    check_writable_target(doc, "--doc")
    if json_out:
        check_writable_target(json_out, "--json")
    from snnc.paths import guard_outputs  # held until the command returns (checked before any work)

    click.get_current_context().with_resource(guard_outputs(
        inputs=[("--data", None if data in ("synthetic", "synthetic-hard") else data)],
        outputs=[("--out", out, "folder"), ("--doc", doc), ("--json", json_out)]))
    import torch

    from snnc.commands.train import _threads
    from snnc.experiment.report import write_report
    from snnc.experiment.runner import Settings
    from snnc.experiment.variants import select

    torch.set_num_threads(_threads())
    settings = Settings(data=data, size=size, T=T or (60 if size == "paper" else 8), seed=seed, epochs=epochs, train_samples=train_samples,
                        test_samples=test_samples, calibrate=calibrate, weight_grad=weight_grad,
                        warmup_steps=warmup_steps)
    if size == "paper":  # the seeded plan, each result committed as it finishes (snnc.experiment.paper_results)
        from snnc.experiment.paper_results import paper_command

        return paper_command(settings, names, out, doc, json_out, executor, address, workers)
    chosen = select(names)
    start = time.perf_counter()
    results = _run(chosen, settings, out, executor, address, workers, _threads())
    line = "snnc " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["experiment"] else "snnc experiment"
    write_report(results, doc, line, time.perf_counter() - start)
    if json_out:
        from snnc.io import atomic_path

        with atomic_path(json_out, "--json") as tmp:
            tmp.write_text(json.dumps(results, indent=1, default=float))
    click.echo(f"wrote {doc} ({len(results)} variants; results in {out})")


def _run(chosen, settings, out, executor="local", address=None, workers=None, threads=1) -> list[dict]:
    """Run the variants as work units (snnc.executors): finished ones are reused, the rest computed
    locally or on Ray; results in the order of ``chosen``."""
    from pathlib import Path

    from snnc.executors.experiment_unit import experiment_unit, experiment_units, remember_data
    from snnc.executors.run import run_units
    from snnc.experiment.runner import Data, finished_result

    data = Data(settings)  # bad data fails here, before anything is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remember_data(settings, data)  # local units use it; Ray workers load their own copy once
    done = {v.name: finished_result(v, settings, data, out) for v in chosen}
    todo = [v for v in chosen if done[v.name] is None]
    values, _ = run_units(experiment_units(todo, settings, out, threads), experiment_unit, executor=executor,
                          address=address, workers=workers, title="experiment", reused=len(chosen) - len(todo),
                          run_dir=out)
    done.update({v.name: r for v, r in zip(todo, values)})
    return [done[v.name] for v in chosen]
