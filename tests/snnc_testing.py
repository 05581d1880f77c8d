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
