"""`make demo`: the main job end to end on built-in defaults (synthetic DVS-gesture events).

1. train a vanilla and an ASA LIF-SNN-3 (small demo size)        snnc train
2. compile the ASA model for Lava (fold BN, fuse pooling, ASA -> per-timestep gains, fixed point)
                                                                   snnc compile --target lava
3. simulate it on the reference CPU simulator with the energy report against the vanilla baseline
                                                                   snnc simulate --report-energy --baseline
4. write the plot of per-layer firing rates and energy;
5. run the compiled artifact as Lava processes (Loihi2SimCfg, fixed_pt) with the pipeline-aware readout
   (D zero frames per sample, output counted over steps D..T+D-1, docs/design.md §3.4) and check every
   spike and the accuracy against the reference simulator on the same samples
                                                                   snnc simulate --backend lava --compare cpu

Each step is the real CLI command, printed before it runs, so the demo doubles as a tutorial.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import click


def _run(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "snnc.cli", *args]
    click.secho("$ snnc " + " ".join(shlex.quote(a) for a in args), fg="cyan", bold=True)
    t0 = time.perf_counter()
    rc = subprocess.call(cmd)
    if rc != 0:
        click.secho(f"demo step failed (exit {rc}): snnc {' '.join(args)}", fg="red", err=True)
        sys.exit(rc)
    click.secho(f"  ({time.perf_counter() - t0:.1f} s)\n", dim=True)


@click.command()
@click.option("--out", "out", default="build/demo", show_default=True, type=click.Path(file_okay=False),
              help="Directory for the demo's checkpoints, artifact, report and plot.")
@click.option("--seed", default=0, show_default=True, help="Seed for data and training.")
def main(out: str, seed: int) -> None:
    """Run the snnc demo end to end."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    vanilla, asa = d / "vanilla.pt", d / "asa.pt"
    _run(["train", "--model", "lif-snn-3", "--attention", "none", "--seed", str(seed), "-o", str(vanilla)])
    _run(["train", "--model", "lif-snn-3", "--attention", "asa", "--seed", str(seed), "-o", str(asa)])
    _run(["compile", str(asa), "--target", "lava", "--fixed-point", "-o", str(d / "asa-lava")])
    _run(["simulate", str(d / "asa-lava"), "--report-energy", "--baseline", str(vanilla),
          "--json", str(d / "energy.json"), "--plot", str(d / "energy.png")])
    _run(["simulate", str(d / "asa-lava"), "--backend", "lava", "--samples", "4", "--compare", "cpu"])
    click.secho(f"demo done: checkpoints, artifact, energy.json and energy.png are in {d}/", fg="green", bold=True)


if __name__ == "__main__":
    main()
