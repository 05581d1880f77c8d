"""The Loihi 2 target (``"loihi2"``): the compiled graph as stock Lava processes a Loihi 2 chip hosts.

``run(graph, x, *, timing="lava", record_voltage=False, readout="pipeline") -> SimResult`` lowers the graph
(:mod:`.lower`: the Lava spec of :mod:`snnc.backends.lava.lower`, refusing what the chip cannot host,
:mod:`.check`), builds RingBuffer → Conv/Dense → LIF/LIFReset → sink processes (:mod:`.emit`, every
class from ``lava.proc``) and runs them on ``Loihi2SimCfg(select_tag="fixed_pt")`` with windows by
stock means (:mod:`.runner`): the staggered ``LIFReset`` (pipeline readout, = snnc timing) or D steps of
zero padding and ``Var.set`` resets (``window="pad"``).
``write_loihi2_artifact`` / ``run_artifact`` (:mod:`.artifact`) store and run the spec. Lava is
imported lazily, after :func:`snnc.backends.lava.compat.install`, so importing this package stays light.
"""

from __future__ import annotations

from snnc.backends.lava import compat as _compat
from snnc.errors import SnncError

_compat.install()  # a meta-path hook only (no Lava import): must precede every Lava import


def run(graph, x, *, timing: str = "lava", record_voltage: bool = False, readout: str = "pipeline",
        window: str | None = None, clip_weights: bool = False):
    """Run ``graph`` on Lava's Loihi 2 simulator (fixed_pt) with stock processes (:mod:`.runner`).

    ``window`` ``"reset"`` (the default; needs every population at one pipeline depth): staggered
    ``LIFReset``; the result is the pipeline readout (each layer's T active steps, the output's steps
    D … T + D − 1), equal to the CPU simulator's ``timing="lava", readout="pipeline"`` and to its snnc
    timing; ``timing`` only labels it. ``"pad"``: D zero frames per window + ``Var.set`` resets; the result
    holds all T + D steps per sample under lava timing (the CPU simulator on x padded with D zero frames).
    Spikes only: ``record_voltage`` records no voltages (noted in ``extras``).
    """
    from snnc.backends.loihi2.lower import lower_for_chip
    from snnc.backends.loihi2.runner import execute

    if timing not in ("lava", "snnc"):
        raise SnncError(f"timing: the loihi2 backend runs 'lava' or 'snnc' timing, got {timing!r}")
    if timing == "lava" and readout != "pipeline" and window != "pad":
        raise SnncError(f"readout: the loihi2 backend reads the pipeline ('pipeline', or window='pad' for all "
                        f"T + D steps), got {readout!r}")
    spec = lower_for_chip(graph, clip_weights=clip_weights)
    if window is None and spec["loihi2"]["window"] != "reset":
        raise SnncError("loihi2: some population is reached by paths of different lengths, so the pipeline "
                        "readout (staggered LIFReset) does not apply; pass window='pad' for padded windows "
                        "(all T + D steps under lava timing)")
    if timing == "snnc" and window == "pad":
        raise SnncError("timing: 'snnc' on loihi2 needs the staggered-reset window; window='pad' runs lava timing")
    result = execute(spec, x, window=window, timing=timing)
    if record_voltage:  # stock LIF streams spikes only; voltages would need a Var.get per step
        result.extras["voltages"] = "not recorded: the loihi2 backend streams spikes only (stock processes)"
    return result


def write_loihi2_artifact(graph, directory, *, clip_weights: bool = False) -> list[str]:
    """Write the loihi2 spec of ``graph`` into ``directory/loihi2/``; returns report notes."""
    from snnc.backends.loihi2.artifact import write_loihi2_artifact as _write

    return _write(graph, directory, clip_weights=clip_weights)


def run_artifact(directory, x, *, window: str | None = None):
    """Run a directory written by :func:`write_loihi2_artifact` on a batch ``x``."""
    from snnc.backends.loihi2.artifact import run_artifact as _run

    return _run(directory, x, window=window)


__all__ = ["run", "write_loihi2_artifact", "run_artifact"]
