"""``snnc regress ARTIFACT --golden FILE.json [--backend cpu|lava|loihi2|onnx] [--update] [--samples N] [--seed S]``.

Runs ARTIFACT (an artifact directory with graph.nir, or any file ``load_graph`` reads) on a fixed,
seeded input set and compares per-layer, per-step spike counts and per-synapse synaptic operations
with the golden file (:mod:`snnc.regress`). Exit 0 when they match, 1 with one line per
difference (``layer b1 t=3: expected 120, got 121``), 2 for bad input.
"""

from __future__ import annotations

import sys

import click

from snnc import options as opt


@click.command("regress")
@click.argument("artifact", type=click.Path())
@click.option("--golden", required=True, type=click.Path(dir_okay=False), help="Golden JSON file.")
@click.option("--backend", default=None, type=click.Choice(["cpu", "lava", "loihi2", "onnx"]),
              help="Backend to run [default: the golden file's, else cpu]. Another backend than the golden "
                   "file's is compared against it (noted): it must reproduce the same counts. loihi2 (Lava's "
                   "stock Loihi 2 processes, a fixed-point graph) reads the pipeline only under Lava timing.")
@click.option("--timing", default=None, type=click.Choice(["snnc", "lava"]),
              help="Timing convention [default: the golden file's; else lava for --backend lava, snnc otherwise].")
@click.option("--readout", default=None, type=click.Choice(["pipeline", "unshifted"]),
              help="Lava timing only: pipeline (D zero frames padded, each layer's T active steps) or unshifted "
                   "[default: the golden file's (a file without one: unshifted); a new file: pipeline on cpu, lava "
                   "and loihi2, else unshifted].")
@click.option("--update", is_flag=True, help="Rewrite the golden file (atomically) from this run.")
@click.option("--samples", default=None, type=opt.SAMPLES, help="Number of input samples [default: golden file's, else 8].")
@click.option("--seed", default=None, type=opt.SEED, help="Seed of the input draw [default: golden file's, else 0].")
@click.option("--rtol", default=None, type=opt.NON_NEGATIVE,
              help="Relative tolerance for float graphs [default 1e-6; fixed point is always exact].")
@click.option("--atol", default=None, type=opt.NON_NEGATIVE, help="Absolute tolerance for float graphs [default 0].")
def command(artifact: str, golden: str, backend: str | None, timing: str | None, update: bool, samples: int | None,
            seed: int | None, rtol: float | None, atol: float | None, readout: str | None = None) -> None:
    """Compare ARTIFACT's spike counts with a golden file (exit 1 on a difference)."""
    from snnc.paths import guard_outputs
    from snnc.regress.check import regress

    opt.check_backend_timing(backend, timing)
    with guard_outputs(inputs=[("ARTIFACT", artifact), ("--golden", None if update else golden)],
                       outputs=[("--golden", golden if update else None)]):
        outcome = regress(artifact, golden, backend=backend, timing=timing, update=update, samples=samples,
                          seed=seed, rtol=rtol, atol=atol, readout=readout)
    for note in outcome.notes:
        click.echo(note, err=not update)
    if outcome.ok:
        if not update:
            g = outcome.golden
            click.echo(f"ok: {len(g['layers'])} layers and {len(g['synops'])} synapses match {golden} "
                       f"(backend {g['backend']}, timing {g['timing']}"
                       + (f", {g['readout']} readout" if g.get("readout") else "") + f", {g['numerics']}, "
                       f"{g['inputs']['samples']} samples)")
        return
    click.echo(f"regression: {artifact} differs from {golden}:", err=True)
    for line in outcome.lines:
        click.echo(f"  {line}", err=True)
    sys.exit(1)
