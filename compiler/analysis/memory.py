"""Will one batch fit? An estimate of a simulation's memory, checked before anything is allocated.

The reference simulator keeps, for a batch of B samples over T steps, the input frames and every
node's output (spikes of all spiking layers are recorded), all float32. The estimate is

.. math:: \\text{bytes} = 2 \\cdot 4 \\cdot B \\cdot T \\cdot \\Big(n_\\text{in} + \\sum_{v} n_v\\Big)

(n_v the output elements of node v; the factor 2 covers temporaries such as currents and states).
It is compared with 3/4 of the kernel's ``MemAvailable`` (/proc/meminfo); where that is unknown nothing
is refused. :func:`require` is the one place that turns "does not fit" into a one-line SnncError stating
the estimated bytes and the available memory.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.errors import SnncError

#: temporaries (currents, states, conversions) on top of the recorded tensors
OVERHEAD = 2.0
#: refuse what would leave less than a quarter of the available memory to everything else
SAFE_FRACTION = 0.75


def available_bytes() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None where the file does not exist)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def human(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def elements_per_step(graph: nir.NIRGraph) -> float:
    """Input elements plus the output elements of every node, for one sample and one step."""
    from snnc.compiler.ir.graph_utils import input_names
    from snnc.compiler.ir.shapes import infer_shapes, shape_of

    typed = infer_shapes(graph)
    total = float(np.prod(shape_of(typed, input_names(typed)[0], "output"), dtype=np.float64))
    for name in typed.nodes:
        total += float(np.prod(shape_of(typed, name, "output"), dtype=np.float64))
    return total


def simulation_bytes(graph: nir.NIRGraph, T: int, batch: int) -> float:
    """Estimated peak bytes of simulating one batch (module docstring)."""
    return OVERHEAD * 4.0 * batch * T * elements_per_step(graph)


def require(need: float, where: str, what: str) -> None:
    """SnncError ``"<where>: <what> needs about X, but only Y is available"`` when ``need`` exceeds
    :data:`SAFE_FRACTION` of MemAvailable."""
    avail = available_bytes()
    if avail is not None and need > SAFE_FRACTION * avail:
        raise SnncError(f"{where}: {what} needs about {human(need)} ({need:.3g} bytes), more than 3/4 of the "
                        f"{human(avail)} of memory available (MemAvailable); nothing was allocated")


def require_simulation(graph: nir.NIRGraph, T: int, batch: int, where: str) -> None:
    """Refuse up front when one batch of ``batch`` samples over ``T`` steps cannot fit."""
    per_sample = simulation_bytes(graph, T, 1)
    require(per_sample * batch, where, f"simulating {batch} sample(s) of T = {T} steps "
                                      f"({human(per_sample)} per sample)")
