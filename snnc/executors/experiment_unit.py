"""The work unit of ``snnc experiment``: one (variant, seed) trained, compiled and simulated.

The unit writes ``OUT/<variant>/result.json`` (and its checkpoint) itself, through the resumable
cache of :func:`snnc.experiment.runner.run_variant`, so a driver that dies loses no finished unit;
on a cluster OUT must be a folder every node sees. The data are loaded once per worker process.
Everything is seeded by the settings (the unit), and the unit runs with the driver's torch thread
count in every executor: the result is byte-identical whichever process computes it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from snnc.executors.units import Unit

_DATA: dict[str, Any] = {}  # this process's loaded data: {"key": settings blob, "data": Data}


def _data_key(settings: Any) -> str:
    import json

    return json.dumps({k: v for k, v in asdict(settings).items()
                       if k in ("data", "T", "seed", "train_samples", "test_samples", "calibrate")}, sort_keys=True)


def remember_data(settings: Any, data: Any) -> None:
    """Let units in this process use ``data`` (already loaded by the driver) instead of loading it."""
    _DATA.update(key=_data_key(settings), data=data)


def unit_data(settings: Any) -> Any:
    """The data of ``settings`` in this process, loaded at most once (one set in memory at a time)."""
    from snnc.experiment.runner import Data

    if _DATA.get("key") != _data_key(settings):
        _DATA.clear()  # the old frames go before the new ones are built
        _DATA.update(key=_data_key(settings), data=Data(settings))
    return _DATA["data"]


def experiment_unit(payload: dict) -> dict:
    """The result dict of one variant (run_variant), computed from ``payload`` alone."""
    import torch

    from snnc.experiment.runner import Settings, run_variant
    from snnc.experiment.variants import BY_NAME

    torch.set_num_threads(int(payload["threads"]))
    settings = Settings(**payload["settings"])
    return run_variant(BY_NAME[payload["variant"]], settings, unit_data(settings), Path(payload["out"]))


def experiment_units(variants: list[Any], settings: Any, out: Path, threads: int) -> list[Unit]:
    """One unit per variant (the seed is the settings'), named ``<variant>/seed<seed>``."""
    return [Unit(f"{v.name}/seed{settings.seed}", {"variant": v.name, "settings": asdict(settings),
                                                   "out": str(out.resolve()), "threads": int(threads)})
            for v in variants]
