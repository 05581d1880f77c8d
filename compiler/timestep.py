"""The step size dt against a neuron's time constants τ: the one rule every backend and pass uses.

A float neuron integrates with forward Euler, a = dt/τ, decay β = 1 − a (docs/design.md §3.3), so
a must lie in (0, 1]. Exporters that mean "a = 1" (no memory) write τ = dt in float32, which comes
back as dt/τ = 1.0000002 (snnTorch): a ratio within :data:`DT_TAU_TOLERANCE` of 1 *is* 1.

IF has no time constant (its result does not depend on dt); LIF, LI, CubaLIF and CubaLI do,
unless snnc wrote the exact float32 β and gain into ``node.metadata["snnc"]`` (checkpoints).
A graph that depends on dt and carries none gets an error naming ``--dt`` (:func:`require_dt`);
there is no silent default for it.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.errors import SnncError

DT_TAU_TOLERANCE = 1e-6
DEFAULT_DT = 1e-3  # the value backends fall back to when called as a library without dt
_TAU_FIELDS = {"LIF": ("tau",), "LI": ("tau",), "CubaLIF": ("tau_syn", "tau_mem"), "CubaLI": ("tau_syn", "tau_mem")}


def step_fraction(dt: float, tau) -> np.ndarray:
    """a = dt/τ per neuron (float64), with every ratio within 1e-6 of 1 set to exactly 1."""
    a = np.float64(dt) / np.asarray(tau, np.float64)
    return np.where(np.abs(a - 1.0) <= DT_TAU_TOLERANCE, 1.0, a)


def check_step(name: str, a: np.ndarray, dt: float, what: str, hint: str = "give it with --dt") -> None:
    """SnncError unless every a = dt/τ lies in (0, 1] (else the Euler decay 1 − a is negative)."""
    a = np.asarray(a, np.float64)
    if np.any(a > 1.0) or np.any(a <= 0.0) or not np.all(np.isfinite(a)):
        raise SnncError(f"node {name!r}: dt/{what} = {float(np.max(a)):g} at dt = {dt:g} s is outside (0, 1]; "
                        f"the graph was made for another dt ({hint})")


def dt_dependent_nodes(graph: nir.NIRGraph) -> dict[str, tuple[str, np.ndarray]]:
    """{node: (τ field, τ values)} of the neurons whose dynamics depend on dt (module docstring)."""
    out: dict[str, tuple[str, np.ndarray]] = {}
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind not in _TAU_FIELDS:
            continue
        meta = (node.metadata or {}).get("snnc") or {}
        if kind in ("LIF", "LI") and "beta" in meta and "gain" in meta:
            continue
        field = min(_TAU_FIELDS[kind], key=lambda f: float(np.min(np.asarray(getattr(node, f), np.float64))))
        out[str(name)] = (field, np.asarray(getattr(node, field), np.float64))
    return out


def graph_dt(graph: nir.NIRGraph) -> float | None:
    """``metadata["snnc"]["dt"]`` or None."""
    dt = ((graph.metadata or {}).get("snnc") or {}).get("dt")
    return None if dt is None else float(dt)


def require_dt(graph: nir.NIRGraph, dt: float | None, where: str = "graph", how: str = "pass --dt SECONDS") -> float:
    """The dt to run ``graph`` with: ``dt`` if given, else the graph's; SnncError naming ``--dt``
    when neither exists and a neuron's result depends on dt. Graphs that do not depend on dt get
    :data:`DEFAULT_DT` (it changes nothing)."""
    if dt is not None:
        if not dt > 0:
            raise SnncError(f"dt: must be > 0 seconds, got {dt}")
        return float(dt)
    own = graph_dt(graph)
    if own is not None:
        return own
    nodes = dt_dependent_nodes(graph)
    if not nodes:
        return DEFAULT_DT
    name, (field, tau) = min(nodes.items(), key=lambda kv: float(np.min(kv[1][1])))
    ratio = DEFAULT_DT / float(np.min(tau))
    raise SnncError(f"{where}: node {name!r} ({type(graph.nodes[name]).__name__}) has time constants but the graph "
                    f"gives no dt; {how} (the default {DEFAULT_DT:g} s would give dt/{field} = {ratio:g})")
