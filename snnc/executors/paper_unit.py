"""The work unit of ``snnc experiment --size paper``: one planned (variant, seed) run.

The unit is :func:`snnc.experiment.paper_results.run_one`: it trains, compiles and simulates the variant
(checkpoints under ``OUT/seed<s>/``, the resumable cache of ``run_variant``), runs the fixed-point stage and
writes ``RESULTS/<variant>-seed<s>.json`` itself as soon as it finishes, so a driver that dies loses no
finished run (on a cluster OUT and RESULTS must be folders every node sees). Everything is seeded by the
settings in the payload and runs with the driver's torch thread count (recorded among the run's facts, since
another count may round differently): the committed file is byte-identical whichever executor computed it."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from snnc.executors.units import Unit


def paper_unit(payload: dict) -> dict:
    """The committed result (run facts merged back) of one planned run, computed from ``payload`` alone."""
    import torch

    from snnc.executors.experiment_unit import unit_data
    from snnc.experiment.paper_results import run_one
    from snnc.experiment.runner import Settings

    torch.set_num_threads(int(payload["threads"]))
    settings = Settings(**payload["settings"])
    verbose = bool(payload.get("verbose"))

    def say(text: str) -> None:
        if verbose:
            print(f"paper: {text}", file=sys.stderr, flush=True)

    if verbose:
        say(f"{payload['variant']} seed {settings.seed}: loading {settings.data} (once per process and seed)")
    return run_one(payload["variant"], settings, unit_data(settings), Path(payload["out"]),
                   Path(payload["results"]), say)


def paper_units(runs: list[tuple[str, Any]], out: Path, results: Path, threads: int, verbose: bool) -> list[Unit]:
    """One unit per (variant, settings with its seed), named ``<variant>/seed<seed>``."""
    return [Unit(f"{variant}/seed{s.seed}", {"variant": variant, "settings": asdict(s), "out": str(Path(out).resolve()),
                                             "results": str(Path(results).resolve()), "threads": int(threads),
                                             "verbose": bool(verbose)})
            for variant, s in runs]
