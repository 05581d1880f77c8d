"""Per-layer agreement of two runs (e.g. Lava vs the CPU reference), for ``snnc simulate --compare cpu``."""

from __future__ import annotations

import numpy as np

from snnc.backends.result import SimResult


def compare_runs(a: SimResult, b: SimResult) -> dict[str, dict]:
    """layer -> {spikes_a, spikes_b, differing, identical[, max_abs_dv]} over the layers both recorded.

    ``differing`` counts (sample, step, neuron) entries whose spike differs; voltages, when both
    runs recorded them, give ``max_abs_dv``. Fixed-point Lava and the CPU simulator must agree
    exactly; float runs may differ at threshold ties.
    """
    out: dict[str, dict] = {}
    for name in a.spikes:
        if name not in b.spikes:
            continue
        sa, sb = np.asarray(a.spikes[name]), np.asarray(b.spikes[name])
        if sa.shape != sb.shape:
            raise ValueError(f"layer {name!r}: shapes differ {sa.shape} vs {sb.shape}")
        diff = int(np.sum(sa != sb))
        row = {"spikes_a": float(sa.sum()), "spikes_b": float(sb.sum()), "differing": diff, "identical": diff == 0}
        if name in a.voltages and name in b.voltages:
            row["max_abs_dv"] = float(np.max(np.abs(np.asarray(a.voltages[name], np.float64)
                                                    - np.asarray(b.voltages[name], np.float64)), initial=0.0))
        out[name] = row
    return out
