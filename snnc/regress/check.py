"""``regress(...)``: the whole check behind ``snnc regress`` and the ``snnc_regress`` pytest fixture."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from snnc.errors import SnncError
from snnc.regress import core
from snnc.regress.diff import compare


@dataclass
class RegressOutcome:
    """``ok`` and the difference lines; ``notes`` (sha changes, updates) are informational."""

    ok: bool
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    golden: dict = field(default_factory=dict)

    def report(self) -> str:
        return "\n".join(self.notes + self.lines)


def _tolerance(numerics: str, rtol: float | None, atol: float | None, recorded: dict | None) -> tuple[float, float]:
    if numerics == "fixed":
        if (rtol or 0) != 0 or (atol or 0) != 0:
            raise SnncError("--rtol/--atol: a fixed-point graph is compared exactly (integer semantics); "
                            "drop the tolerance")
        return 0.0, 0.0
    rec = recorded or {}
    r = rtol if rtol is not None else float(rec.get("rtol", core.FLOAT_RTOL))
    a = atol if atol is not None else float(rec.get("atol", 0.0))
    if r < 0 or a < 0:
        raise SnncError("--rtol/--atol: must be >= 0")
    return r, a


def regress(artifact: str | os.PathLike, golden_path: str | os.PathLike, *, backend: str | None = None,
            timing: str | None = None, update: bool = False, samples: int | None = None, seed: int | None = None,
            rtol: float | None = None, atol: float | None = None, readout: str | None = None) -> RegressOutcome:
    """Run ``artifact`` on the golden file's inputs and compare (or, with ``update``, rewrite the file).
    ``readout`` (Lava timing): default the golden file's (a file without one is unshifted), for a new file
    :func:`snnc.regress.core.default_readout`."""
    loaded = core.load_artifact(artifact)
    golden = None
    if not update or Path(golden_path).exists():
        try:
            golden = core.read_golden(golden_path)
        except SnncError:
            if not update:
                raise
    rec_inputs = (golden or {}).get("inputs", {})
    backend = backend or (golden or {}).get("backend", "cpu")
    timing = timing or (golden or {}).get("timing") or core.BACKEND_TIMING.get(backend, "snnc")
    if readout not in (None, "pipeline", "unshifted"):
        raise SnncError(f"--readout: must be 'pipeline' or 'unshifted', got {readout!r}")
    recorded = None if update or golden is None else golden.get("readout", "unshifted")
    readout = None if timing != "lava" else (readout or recorded or core.default_readout(backend, timing))
    samples = samples if samples is not None else int(rec_inputs.get("samples", core.DEFAULT_SAMPLES))
    seed = seed if seed is not None else int(rec_inputs.get("seed", core.DEFAULT_SEED))
    numerics = ((loaded.graph.metadata or {}).get("snnc") or {}).get("numerics", "float")
    r, a = _tolerance(numerics, rtol, atol, (golden or {}).get("tolerance") if not update else None)
    current = core.build_golden(loaded, str(artifact), backend, timing, samples, seed, r, a, readout)
    if update:
        core.write_golden(golden_path, current)
        return RegressOutcome(True, [], [f"wrote {golden_path} ({len(current['layers'])} layers, backend {backend}, "
                                         f"timing {timing}, {samples} samples, seed {seed})"], current)
    notes = []
    if golden.get("graph_sha256") != current["graph_sha256"]:
        notes.append(f"note: graph sha256 {current['graph_sha256'][:12]} differs from the golden file's "
                     f"{str(golden.get('graph_sha256'))[:12]}")
    lines = []
    if golden.get("backend") != current["backend"]:  # allowed: checks that another backend reproduces the counts
        notes.append(f"note: golden file recorded backend {golden.get('backend')!r}; comparing the "
                     f"{current['backend']!r} run against it")
    for key in ("timing", "numerics"):
        if golden.get(key) != current[key]:
            lines.append(f"{key}: golden file has {golden.get(key)!r}, the run used {current[key]!r}")
    if current["timing"] == "lava" and golden.get("readout", "unshifted") != current.get("readout", "unshifted"):
        lines.append(f"readout: golden file has {golden.get('readout', 'unshifted')!r}, the run used "
                     f"{current.get('readout', 'unshifted')!r}")
    for key in ("data", "samples", "seed", "T", "shape"):
        if key in rec_inputs and rec_inputs[key] != current["inputs"].get(key):
            lines.append(f"inputs: golden file has {key}={rec_inputs[key]!r}, the run used {current['inputs'].get(key)!r}")
    if not any(line.startswith("inputs:") for line in lines):  # counts of different inputs are not comparable
        lines += compare(golden, current, r, a)
    return RegressOutcome(not lines, lines, notes, current)
