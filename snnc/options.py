"""Click parameter types that refuse bad numbers where the command line is parsed.

Every numeric flag of every command uses one of these, so ``--seed -1``, ``--lr nan``, ``--steps 0`` or
``--atol inf`` stop with ``snnc: error: Invalid value for '--lr': ...`` (exit 2) before any work:

* :class:`Real` -- a finite float in [lo, hi] (each bound open or closed, or absent);
* :class:`Count` -- an integer in [lo, hi] (sample counts, steps, epochs, batch sizes);
* :data:`SEED` -- an integer seed in [0, 2**32 - 1] (NumPy's ``default_rng`` and torch both accept it).

No torch or numpy import: ``snnc --help`` stays light.
"""

from __future__ import annotations

import math

import click

from snnc.errors import SnncError

#: the largest number of samples any command draws (the synthetic labels of N samples take 8 N bytes)
MAX_SAMPLES = 10**9
#: the largest number of timesteps per sample (memory is also checked against the machine up front)
MAX_STEPS = 10**9


class Real(click.ParamType):
    """A finite float in a range; ``lo_open``/``hi_open`` exclude the bound itself."""

    name = "float"

    def __init__(self, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
                 hi_open: bool = False) -> None:
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open

    def _range(self) -> str:
        if self.lo is not None and self.hi is not None:
            return (f"a finite number in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}"
                    f"{')' if self.hi_open else ']'}")
        if self.lo is not None:
            return f"a finite number {'>' if self.lo_open else '>='} {self.lo:g}"
        if self.hi is not None:
            return f"a finite number {'<' if self.hi_open else '<='} {self.hi:g}"
        return "a finite number"

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, float) and math.isfinite(value) and self._inside(value):
            return value
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number; expected {self._range()}", param, ctx)
        if not math.isfinite(v) or not self._inside(v):
            self.fail(f"{value!r}: expected {self._range()}", param, ctx)
        return v

    def _inside(self, v: float) -> bool:
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            return False
        if self.hi is not None and (v > self.hi or (self.hi_open and v == self.hi)):
            return False
        return True

    def __repr__(self) -> str:
        return f"Real({self._range()})"


class Count(click.ParamType):
    """An integer in [lo, hi] (``hi`` None: unbounded)."""

    name = "integer"

    def __init__(self, lo: int = 1, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi

    def _range(self) -> str:
        if self.lo == 1:
            return "a positive integer" + ("" if self.hi is None else f" (at most {self.hi})")
        return f"an integer >= {self.lo}" if self.hi is None else f"an integer in [{self.lo}, {self.hi}]"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, bool):
            self.fail(f"{value!r} is not {self._range()}", param, ctx)
        if isinstance(value, int):
            v = value
        else:
            text = str(value).strip()
            try:
                v = int(text)
            except ValueError:
                self.fail(f"{value!r} is not {self._range()}", param, ctx)
        if v < self.lo or (self.hi is not None and v > self.hi):
            self.fail(f"{value!r}: expected {self._range()}", param, ctx)
        return v

    def __repr__(self) -> str:
        return f"Count({self._range()})"


#: a seed for NumPy and torch
SEED = Count(0, 2**32 - 1)
#: samples drawn by simulate / compile / regress / train / experiment
SAMPLES = Count(1, MAX_SAMPLES)
#: held-out samples (0: skip the fidelity measurement)
SAMPLES_OR_ZERO = Count(0, MAX_SAMPLES)
#: timesteps per sample
STEPS = Count(1, MAX_STEPS)
#: samples per simulator call (bounded: one batch must fit in memory)
BATCH = Count(1, 65536)
#: training epochs
EPOCHS = Count(1, 10**6)
#: energies in pJ, tolerances: finite and >= 0
NON_NEGATIVE = Real(0.0)
#: learning rates, scale factors, seconds per step: finite and > 0
POSITIVE = Real(0.0, lo_open=True)
#: a scale of the released widths: finite, > 0 and at most 64 (64 x the released network)
WIDTH_SCALE = Real(0.0, 64.0, lo_open=True)


def check_backend_timing(backend: str | None, timing: str | None) -> None:
    """``--timing`` with ``--backend lava``: the Lava backend runs with Lava's timing only (design.md §3.4)."""
    if backend == "lava" and timing not in (None, "lava"):
        raise SnncError(f"--timing: the Lava backend runs with Lava's timing only ('lava'), got {timing!r}")
