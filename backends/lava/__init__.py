"""The Lava backend (``"lava"``): runs a compiled snnc IR graph on Lava 0.10.0's CPU simulator.

``run(graph, x, *, timing="lava", record_voltage=False) -> SimResult`` (docs/design.md §5) builds a
Lava process graph (:mod:`.emit`) and streams every spiking layer out per step (:mod:`.runner`).
Fixed-point graphs (``numerics == "fixed"``, LoihiLIF) run with ``select_tag="fixed_pt"``, float
graphs with ``"floating_pt"``. ``write_lava_artifact`` / ``run_artifact`` (:mod:`.artifact`) store
and run a torch-free spec. Lava itself is imported lazily inside functions, after
:func:`.compat.install` (Python 3.11 fix), so ``import snnc.backends.lava`` stays light.
"""

from __future__ import annotations

from snnc.backends.lava import compat as _compat

_compat.install()  # a meta-path hook only (no Lava import): must precede every Lava import


def run(graph, x, *, timing: str = "lava", record_voltage: bool = False, **options):
    """Run ``graph`` on Lava for a batch ``x`` [N, T, *in_shape]; see :func:`.runner.run`."""
    from snnc.backends.lava.runner import run as _run

    return _run(graph, x, timing=timing, record_voltage=record_voltage, **options)


def write_lava_artifact(graph, directory):
    """Write the torch-free Lava spec of ``graph`` into ``directory``; see :mod:`.artifact`."""
    from snnc.backends.lava.artifact import write_lava_artifact as _write

    return _write(graph, directory)


def run_artifact(directory, x, *, record_voltage: bool = False, **options):
    """Run a directory written by :func:`write_lava_artifact` on a batch ``x``."""
    from snnc.backends.lava.artifact import run_artifact as _run

    return _run(directory, x, record_voltage=record_voltage, **options)


__all__ = ["run", "write_lava_artifact", "run_artifact"]
