"""``snnc simulate ARTIFACT_OR_MODEL [--backend cpu] [--compare cpu] [--data ...] [--report-energy] [--baseline BASE] ...``

Runs a compiled artifact (a directory holding graph.nir) or any model file ``snnc.frontends.load_graph``
reads on synthetic or real event data, and reports spikes per layer, accuracy and (``--report-energy``)
the analytic and measured energy (:mod:`snnc.compiler.analysis.energy`). Heavy imports happen inside.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from snnc import options as opt
from snnc.executors.cli_options import executor_options

from snnc.backends.registry import list_backends


@click.command("simulate")
@click.argument("source", metavar="ARTIFACT_OR_MODEL")
@click.option("--backend", default="cpu", show_default=True, type=click.Choice(list_backends()),
              help="Execution backend (energy counts always come from the cpu reference).")
@click.option("--data", default="synthetic", show_default=True,
              help="'synthetic', 'synthetic-hard' (11 classes), an .npy/.npz file (x [N, T, ...], optional labels y) or a DVS128 Gesture folder.")
@click.option("--samples", default=16, show_default=True, type=opt.SAMPLES, help="Number of samples.")
@click.option("--batch", default=16, show_default=True, type=opt.BATCH, help="Samples per simulator call.")
@click.option("--T", "--steps", "steps", default=None, type=opt.STEPS,
              help="Timesteps T per sample (--steps: alias) [default: the --data file's T, else the graph's, else 10]; "
                   "a --T that disagrees with the file is an error.")
@click.option("--report-energy", is_flag=True, help="Per-layer analytic (Eq. S1) and measured energy.")
@click.option("--baseline", default=None, help="Vanilla model/artifact for ΔE and r_REC (Eqs. S3–S4).")
@click.option("--timing", default=None, type=click.Choice(["snnc", "lava"]),
              help="snnc: no synaptic delay; lava: one step per delaying node [default: lava on --backend lava, "
                   "else snnc].")
@click.option("--readout", default=None, type=click.Choice(["pipeline", "unshifted"]),
              help="Lava timing only: pipeline pads D zero frames and counts the output over steps D..T+D-1 (sees "
                   "every frame); unshifted counts steps 0..T-1 [default: pipeline on cpu and lava, else unshifted].")
@click.option("--compare", default=None, type=click.Choice(["cpu"]),
              help="Also run the cpu reference on the same inputs and timing; report per-layer spike agreement.")
@click.option("--json", "json_out", default=None, type=click.Path(dir_okay=False), help="Write the result as JSON.")
@click.option("--plot", "plot_out", default=None, type=click.Path(dir_okay=False), help="Write a PNG of rates and energy.")
@click.option("--e-mac", default=None, type=opt.NON_NEGATIVE, help="Energy per MAC in pJ [4.6].")
@click.option("--e-ac", default=None, type=opt.NON_NEGATIVE, help="Energy per AC in pJ [0.9].")
@click.option("--dt", default=None, type=opt.POSITIVE, help="Seconds per step [graph metadata; required for LIF/LI/CubaLIF graphs that carry none].")
@click.option("--seed", default=0, show_default=True, type=opt.SEED, help="Seed of the synthetic data.")
@click.option("--conv", default=None, type=click.Choice(["dense", "event", "auto"]),
              help="cpu convolution: dense (bit-identical to PyTorch), event (only the non-zero inputs; float sums "
                   "in another order) or auto (event where inputs are sparse; ~1.7x faster at 10 % firing) "
                   "[default: dense for float graphs; auto for fixed point, where all three give the same "
                   "integers].")
@click.option("--convention", default=None, type=click.Choice(["snntorch", "sinabs", "rockpool", "spyx", "norse"]),
              help="Run a .nir file as the framework that exported it runs it (its known deviations from NIR; "
                   "docs/interop.md).")
@executor_options
@click.option("--shards", type=click.IntRange(min=1), default=None, metavar="K",
              help="--executor ray: split the samples into K shards of whole batches [default: --workers, else "
                   "the number of cores]; the counts are identical to one process.")
def command(source: str, backend: str, data: str, samples: int, batch: int, steps: int | None, report_energy: bool,
            baseline: str | None, timing: str | None, compare: str | None, json_out: str | None, plot_out: str | None, e_mac: float | None,
            e_ac: float | None, dt: float | None, seed: int, conv: str, convention: str | None = None,
            executor: str = "local", address: str | None = None, workers: int | None = None,
            shards: int | None = None, readout: str | None = None) -> None:
    """Simulate ARTIFACT_OR_MODEL; print per-layer spikes, accuracy and energy."""
    from snnc.executors.run import check_executor_options, executor_session
    from snnc.paths import guard_outputs

    check_executor_options(executor, address, workers)
    if shards is not None and executor == "local":
        from snnc.errors import SnncError

        raise SnncError("--shards: only with --executor ray")
    run_counts = None
    if executor == "ray":
        from snnc.executors.simulate_shards import ShardedCounts

        run_counts = ShardedCounts(source, convention, baseline, data, samples, seed, executor, address, workers,
                                   shards)

    opt.check_backend_timing(backend, timing)
    guard = guard_outputs(inputs=[("ARTIFACT_OR_MODEL", source), ("--data", None if data in ("synthetic", "synthetic-hard") else data),
                                  ("--baseline", baseline)], outputs=[("--json", json_out), ("--plot", plot_out)])
    with guard:
        _simulate_and_write(source, backend, data, samples, batch, steps, report_energy, baseline, timing, compare,
                            json_out, plot_out, e_mac, e_ac, dt, seed, conv, convention, run_counts,
                            executor_session(executor, address, workers), readout)


def _simulate_and_write(source, backend, data, samples, batch, steps, report_energy, baseline, timing, compare,
                        json_out, plot_out, e_mac, e_ac, dt, seed, conv, convention=None, run_counts=None,
                        session=None, readout=None) -> None:
    """``session``: held while simulating (one Ray for all shards; stdout goes to stderr meanwhile)."""
    import contextlib

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from snnc.render import plot_report, print_report
    from snnc.simulate_session import simulate
    from snnc.io import atomic_path

    err = Console(stderr=True)
    tasks: dict[str, int] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with session or contextlib.nullcontext(), Progress(*columns, console=err, transient=True,
                                                       disable=not err.is_terminal or run_counts is not None) as bar:
        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done)

        result = simulate(source, backend=backend, data=data, samples=samples, batch=batch, timing=timing, compare=compare,
                          energy=report_energy, baseline=baseline, steps=steps, seed=seed, e_mac=e_mac, e_ac=e_ac, dt=dt,
                          progress=progress, conv=conv, convention=convention, run_counts=run_counts, readout=readout)
    if json_out:
        with atomic_path(json_out, "--json") as tmp:
            Path(tmp).write_text(json.dumps(result, indent=2, default=float))
    if plot_out:
        with atomic_path(plot_out, "--plot") as tmp:
            plot_report(result, Path(tmp))
    print_report(result, Console(width=220))
