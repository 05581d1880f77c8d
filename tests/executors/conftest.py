"""Shared fixtures of the executor tests: one embedded Ray per module, a demo-size artifact, the
tiny two-variant experiment run locally once (the reference every Ray run must equal byte for byte),
and the clean-up of a ``ray start`` head by the pids of its own temp dir (never ``ray stop``, which
ends every Ray on the machine)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

#: vanilla + asa (vanilla is always added), one epoch on 16 samples
TINY_EXPERIMENT = ("--epochs", "1", "--train-samples", "16", "--test-samples", "8", "--calibrate", "4",
                   "--variants", "asa")


def cli(*args) -> int:
    """``snnc ARGS`` in this process; its exit code."""
    from snnc.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def tree_bytes(root: Path, name: str = "result.json") -> dict[str, bytes]:
    """relative path -> bytes of every ``name`` below ``root``."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob(name))}


def _names(entry: Path, temp_dir: str) -> bool:
    """Whether process ``entry`` names ``temp_dir`` in its command line or holds a file below it open
    (Ray's agents retitle themselves, and outlive a SIGKILLed raylet)."""
    try:
        if temp_dir.encode() in (entry / "cmdline").read_bytes():
            return True
        return any(os.readlink(fd).startswith(temp_dir) for fd in (entry / "fd").iterdir())
    except OSError:
        return False


def session_pids(temp_dir: str) -> list[int]:
    """Pids of the processes of one ``ray start`` head (see :func:`_names`)."""
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and int(e.name) != os.getpid() and _names(e, temp_dir)]


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def embedded_ray():
    """One embedded 2-CPU Ray for the module, started the way snnc starts it (loopback environment
    first); snnc's executor finds it running and reuses it instead of starting its own."""
    from snnc.executors.ray_env import import_ray

    ray = import_ray(None)
    temp = tempfile.mkdtemp(prefix="snnc-rt-", dir="/tmp")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning", _temp_dir=temp)
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_artifact(tmp_path_factory) -> Path:
    """The demo-size LIF-SNN-3 with ASA (seeded, T = 8) compiled for the cpu target."""
    import torch

    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    root = tmp_path_factory.mktemp("artifact")
    torch.manual_seed(0)
    save_checkpoint(root / "m.pt", build_model({**demo_config("asa"), "T": 8}).eval(), hparams={}, train_meta={})
    assert cli("compile", root / "m.pt", "--target", "cpu", "--calibrate", "4", "--holdout", "0",
               "-o", root / "art") == 0
    return root / "art"


@pytest.fixture(scope="session")
def local_experiment(tmp_path_factory) -> Path:
    """OUT folder of the tiny experiment run with ``--executor local``."""
    root = tmp_path_factory.mktemp("local-exp")
    assert cli("experiment", *TINY_EXPERIMENT, "--out", root / "out", "--doc", root / "doc.md") == 0
    return root / "out"
