"""``snnc compile MODEL --target {lava,cpu,nir,onnx,netx,loihi2} [-o DIR] ...``: run the pass pipeline, write an artifact.

Thin CLI over :func:`snnc.compile_model.compile_model`; heavy imports happen inside the command.
"""

from __future__ import annotations

from pathlib import Path

import click

from snnc import options as opt

TARGETS = ("lava", "cpu", "nir", "onnx", "netx", "loihi2")


@click.command("compile")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--target", required=True, type=click.Choice(TARGETS), help="Target backend (selects the pass list).")
@click.option("-o", "--output", "out", default=None, type=click.Path(file_okay=False),
              help="Artifact directory to write (default: <model stem>-<target>).")
@click.option("--passes", default=None, help="Comma-separated pass list overriding the target's pipeline.")
@click.option("--calibrate", default=64, show_default=True, type=opt.SAMPLES_OR_ZERO,
              help="Calibration samples (training split) for ASA gains and fixed-point scales (0: none; fixed-point "
                   "scales then come from the weights; graphs with attention need data).")
@click.option("--holdout", default=64, show_default=True, type=opt.SAMPLES_OR_ZERO,
              help="Held-out test samples for the fidelity report (0: skip).")
@click.option("--asa-mode", default="fused", show_default=True, type=click.Choice(["fused", "exact"]),
              help="fused: ASA -> calibrated TimeGain; exact: keep ASA (fidelity reference; not for lava).")
@click.option("--gain-granularity", default=None, type=click.Choice(["t", "tc", "tchw", "c"]),
              help="TimeGain granularity: per t, (t, c), (t, c, h, w), or per c constant in time "
                   "(then folded into the weights) [default: tc; c for netx and loihi2].")
@click.option("--fixed-point/--float", "fixed_point", default=None,
              help="Quantize to Loihi 2 fixed point [default: on for lava, netx and loihi2, off otherwise].")
@click.option("--clip-weights", is_flag=True, help="Clip weights that overflow 8 bits instead of failing.")
@click.option("--data", default="synthetic", show_default=True,
              help="Calibration/held-out data: 'synthetic', an .npy/.npz file (x [N, T, *graph input], optional "
                   "labels y) or a DVS128 Gesture folder. 'synthetic' on a graph whose input is not 2x32x32: "
                   "random events of its input shape where data is needed (the report says so).")
@click.option("--T", "--steps", "T", default=None, type=opt.STEPS,
              help="Timesteps per sample (--steps: alias), recorded in the artifact [default: the --data file's T, "
                   "else the graph's].")
@click.option("--dt", default=None, type=opt.POSITIVE,
              help="Seconds per step, recorded in the artifact [default: the graph's; required for LIF/LI/CubaLIF "
                   "graphs that carry none].")
@click.option("--seed", default=0, show_default=True, type=opt.SEED, help="Seed of the calibration/held-out draw.")
@click.option("--convention", default=None, type=click.Choice(["snntorch", "sinabs", "rockpool", "spyx", "norse"]),
              help="Compile a .nir file as the framework that exported it runs it (its known deviations from NIR; "
                   "docs/interop.md).")
@click.option("--float-conv", default="auto", show_default=True, type=click.Choice(["auto", "dense"]),
              help="Convolutions of the float runs (calibration, probes, fidelity reference). auto: event-driven "
                   "where a conv's inputs are sparse (float32 sums in another order than PyTorch's); dense: "
                   "PyTorch's conv, bit-identical to the model, slower on sparse networks.")
def command(model: str, target: str, out: str | None, passes: str | None, calibrate: int, holdout: int,
            asa_mode: str, gain_granularity: str | None, fixed_point: bool | None, clip_weights: bool, data: str,
            T: int | None, dt: float | None, seed: int, convention: str | None = None,
            float_conv: str = "auto") -> None:
    """Compile MODEL (snnc checkpoint or .nir) for TARGET; write graph.nir, manifest and report."""
    from snnc.compiler.compile_options import CompileOptions

    opts = CompileOptions(target=target, passes=passes, calibrate=calibrate, holdout=holdout, asa_mode=asa_mode,
                          gain_granularity=gain_granularity, fixed_point=fixed_point,
                          clip_weights=clip_weights, data=data, seed=seed, T=T, dt=dt, convention=convention,
                          float_conv=float_conv)
    opts.validate()
    out_dir = out or f"{Path(model).stem}-{target}"
    from snnc.paths import guard_outputs

    with guard_outputs(inputs=[("MODEL", model), ("--data", None if data == "synthetic" else data)],
                       outputs=[("-o", out_dir, "artifact")]):
        report = _run_with_progress(model, out_dir, opts)
    fid = report.get("fidelity") or {}
    line = f"wrote {out_dir}/ ({len(report['passes'])} passes: {', '.join(p['name'] for p in report['passes'])})"
    click.echo(line)
    if "accuracy" in fid:
        click.echo(f"held-out accuracy: reference {fid['accuracy_ref']:.4f} -> compiled {fid['accuracy']:.4f} "
                   f"({fid['accuracy_delta_points']:+.2f} points), prediction agreement "
                   f"{fid['prediction_agreement']:.4f} on {fid['samples']} samples")
    elif fid.get("layers"):
        worst = min(r["step_agreement"] for r in fid["layers"].values())
        click.echo(f"held-out spike agreement (no labels: no accuracy): min per-layer step agreement {worst:.4f}, "
                   f"prediction agreement {fid['prediction_agreement']:.4f} on {fid['samples']} samples")
    for note in report.get("notes") or []:
        click.echo(f"note: {note}")
    lava = fid.get("lava_timing") or {}
    if "accuracy" in lava:
        click.echo(f"under lava timing (one step of delay per synapse, {lava.get('readout', 'unshifted')} readout): "
                   f"{lava['accuracy']:.4f} "
                   f"({lava['accuracy_delta_points']:+.2f} points); see report.md")


def _run_with_progress(model: str, out_dir: str, opts) -> dict:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from snnc.compile_model import compile_model

    console = Console(stderr=True)
    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                label = f"run {what}" if what in ("reference", "compiled") else f"calibrate {what}"
                tasks[what] = bar.add_task(label, total=total)
            bar.update(tasks[what], completed=done)

        def on_pass(name: str) -> None:
            if console.is_terminal:
                bar.console.log(f"pass {name}")

        return compile_model(model, out_dir, opts, progress=progress, on_pass=on_pass)

