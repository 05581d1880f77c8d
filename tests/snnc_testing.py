"""Helpers shared by tests in several folders (importable: pytest puts tests/ on sys.path via the
root conftest)."""

from __future__ import annotations

import numpy as np

from snnc.cli import main

#: Inter-spike intervals of the NIR paper's single-LIF task (../shared/nir-reference/README.md).
LIF_PAPER_ISI = [6, 15, 4, 3, 0, 2, 1, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                 0, 0, 5, 0, 14]


def lif_paper_input() -> np.ndarray:
    """The README's input: each interval n gives n zeros then a one, cut to 100 entries, each entry
    followed by 9 zero steps: 1000 steps, shape [N=1, T=1000, 1]."""
    seq: list[int] = []
    for n in LIF_PAPER_ISI:
        seq += [0] * n + [1]
    x = np.zeros(1000, np.float32)
    x[::10] = seq[:100]
    return x[None, :, None]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``snnc ARGS`` in-process through the real entry point; returns (exit code, stdout, stderr)."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def tiny_checkpoint(path) -> "Path":
    """A tiny snnc checkpoint (the demo LIF-SNN-3 with ASA at widths 2, FC 4, T 2; seeded): seconds to compile."""
    import torch

    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    torch.manual_seed(0)
    model = build_model({**demo_config("asa"), "widths": [2, 2, 2], "fc_hidden": 4, "T": 2}).eval()
    return save_checkpoint(path, model, hparams={}, train_meta={})


def tree_state(root) -> dict[str, str | None]:
    """Every path below ``root`` (hidden ones too) -> sha256 of its bytes (None for a directory)."""
    import hashlib
    from pathlib import Path

    out: dict[str, str | None] = {}
    for p in sorted(Path(root).rglob("*")):
        out[p.relative_to(root).as_posix()] = None if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out
