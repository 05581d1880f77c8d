"""Compare a measurement with a golden record; readable one-line differences naming the layer.

A number passes when |got − expected| ≤ atol + rtol·|expected|. Fixed-point graphs use
rtol = atol = 0 (integer semantics are exact on every machine). Float graphs default to
rtol = 1e-6, atol = 0: on one machine and library build a float run is bit-reproducible (same
counts), while totals of fractional synaptic operations (after AvgPool) may pick up float
rounding at the 1e-7 level; spike counts are integers, so 1e-6 of a count below 10^6 is still an
exact comparison. Across CPUs or BLAS builds a membrane potential that sits within one ulp of the
threshold can flip a spike; loosen with ``--rtol``/``--atol`` for such CI.
"""

from __future__ import annotations

MAX_LINES = 40


def _close(got: float, exp: float, rtol: float, atol: float) -> bool:
    return abs(got - exp) <= atol + rtol * abs(exp)


def compare(golden: dict, current: dict, rtol: float, atol: float) -> list[str]:
    """Lines such as ``layer b1 t=3: expected 120, got 121`` (empty when everything matches)."""
    lines: list[str] = []
    g_layers, c_layers = golden.get("layers", {}), current.get("layers", {})
    for name in sorted(set(g_layers) - set(c_layers)):
        lines.append(f"layer {name}: in the golden file but not produced by the run")
    for name in sorted(set(c_layers) - set(g_layers)):
        lines.append(f"layer {name}: produced by the run but not in the golden file")
    for name in sorted(set(g_layers) & set(c_layers)):
        exp, got = g_layers[name]["spikes_per_t"], c_layers[name]["spikes_per_t"]
        if len(exp) != len(got):
            lines.append(f"layer {name}: expected {len(exp)} timesteps, got {len(got)}")
            continue
        bad = [(t, e, c) for t, (e, c) in enumerate(zip(exp, got)) if not _close(c, e, rtol, atol)]
        lines += [f"layer {name} t={t}: expected {e}, got {c}" for t, e, c in bad]
        if bad and not _close(c_layers[name]["total"], g_layers[name]["total"], rtol, atol):
            lines.append(f"layer {name} total: expected {g_layers[name]['total']}, got {c_layers[name]['total']}")
    g_syn, c_syn = golden.get("synops", {}), current.get("synops", {})
    for name in sorted(set(g_syn) ^ set(c_syn)):
        where = "golden file" if name in g_syn else "run"
        lines.append(f"synops {name}: only in the {where}")
    for name in sorted(set(g_syn) & set(c_syn)):
        e, c = g_syn[name]["total"], c_syn[name]["total"]
        if not _close(c, e, rtol, atol):
            lines.append(f"synops {name}: expected {e}, got {c} ({c - e:+g})")
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... and {len(lines) - MAX_LINES} more differences"]
    return lines
