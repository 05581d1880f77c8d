"""Work units and the result of running a list of them.

A unit is a name (what a failure message calls it) and a JSON-able payload; the unit function
(a module-level function, so that Ray pickles it by reference) turns the payload into a JSON-able
value. Everything a unit computes is seeded from its payload, never from the process it runs in,
so a unit retried on another worker returns the same value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

UnitFunction = Callable[[dict], Any]
OnResult = Callable[[int, Any], None]  # (index of the unit in the submitted list, its value)


@dataclass(frozen=True)
class Unit:
    name: str
    payload: dict


@dataclass
class RunSummary:
    """What the final line reports: units computed and reused, wall time, Σ unit times, retries."""

    executor: str
    computed: int = 0
    reused: int = 0
    wall_s: float = 0.0
    unit_s: list[float] = field(default_factory=list)
    retried: int = 0
    startup_s: float = 0.0  # Ray start-up or join (0 for local)

    @property
    def speedup(self) -> float:
        """Σ unit times ÷ wall time (1.0 when nothing was computed)."""
        return sum(self.unit_s) / self.wall_s if self.unit_s and self.wall_s > 0 else 1.0

    def line(self) -> str:
        extra = f", Ray start-up {self.startup_s:.1f} s" if self.executor == "ray" else ""
        return (f"{self.computed} units computed ({self.reused} reused) on {self.executor} in {self.wall_s:.1f} s wall"
                f"{extra}; sum of unit times {sum(self.unit_s):.1f} s, speed-up {self.speedup:.2f}x, "
                f"retried {self.retried}")


def timed_call(fn: UnitFunction, payload: dict) -> tuple[Any, float]:
    """(fn(payload), seconds it took)."""
    import time

    start = time.perf_counter()
    value = fn(payload)
    return value, time.perf_counter() - start
