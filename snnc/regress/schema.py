"""The golden file's schema, checked in one place: every field ``snnc regress`` reads has its type and range.

``check_golden(data, where)`` raises ``SnncError("<where>: field <path>: <problem>")`` for the first
field that does not fit, e.g. ``--golden g.json: field inputs.samples: expected an integer >= 1, got 'two'``.
"""

from __future__ import annotations

import math
from typing import Any

from snnc.errors import SnncError

BACKENDS = ("cpu", "lava", "onnx")
TIMINGS = ("snnc", "lava")


class _Field:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, want: str, got: Any) -> None:
        shown = repr(got)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise SnncError(f"{self.where}: field {path}: expected {want}, got {shown}")

    def obj(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            self.fail(path, "an object {...}", value)
        return value

    def text(self, value: Any, path: str, choices: tuple[str, ...] | None = None) -> str:
        if not isinstance(value, str) or (choices is not None and value not in choices):
            self.fail(path, "a string" if choices is None else f"one of {', '.join(choices)}", value)
        return value

    def integer(self, value: Any, path: str, lo: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            self.fail(path, f"an integer >= {lo}", value)
        return value

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            self.fail(path, "a finite number >= 0", value)
        return float(value)

    def numbers(self, value: Any, path: str) -> list:
        if not isinstance(value, list):
            self.fail(path, "a list of counts", value)
        for i, v in enumerate(value):
            self.number(v, f"{path}[{i}]")
        return value


def check_golden(data: Any, where: str) -> dict:
    """``data`` (a parsed golden file) with every field checked (module docstring)."""
    f = _Field(where)
    f.obj(data, "(top level)")
    for key in ("inputs", "layers", "synops", "backend", "timing"):
        if key not in data:
            raise SnncError(f"{where}: missing key {key!r}")
    f.integer(data.get("format_version", 1), "format_version", 1)
    f.text(data["backend"], "backend", BACKENDS)
    f.text(data["timing"], "timing", TIMINGS)
    if "readout" in data:
        f.text(data["readout"], "readout", ("pipeline", "unshifted"))
    for key in ("numerics", "graph_sha256", "artifact"):
        if key in data:
            f.text(data[key], key)
    inputs = f.obj(data["inputs"], "inputs")
    if "data" in inputs:
        f.text(inputs["data"], "inputs.data")
    for key, lo in (("samples", 1), ("seed", 0), ("T", 1)):
        if key in inputs:
            f.integer(inputs[key], f"inputs.{key}", lo)
    if "shape" in inputs:
        if not isinstance(inputs["shape"], list):
            f.fail("inputs.shape", "a list of dimensions", inputs["shape"])
        for i, v in enumerate(inputs["shape"]):
            f.integer(v, f"inputs.shape[{i}]", 1)
    if "tolerance" in data:
        tol = f.obj(data["tolerance"], "tolerance")
        for key in ("rtol", "atol"):
            if key in tol:
                f.number(tol[key], f"tolerance.{key}")
    for name, layer in f.obj(data["layers"], "layers").items():
        f.obj(layer, f"layers.{name}")
        f.numbers(layer.get("spikes_per_t"), f"layers.{name}.spikes_per_t")
        f.number(layer.get("total"), f"layers.{name}.total")
    for name, syn in f.obj(data["synops"], "synops").items():
        f.obj(syn, f"synops.{name}")
        f.numbers(syn.get("per_t", []), f"synops.{name}.per_t")
        f.number(syn.get("total"), f"synops.{name}.total")
    return data
