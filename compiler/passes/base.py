"""Pass infrastructure: a pass is a named function ``graph -> (new graph, PassRecord)``.

Contract (docs/design.md §3.6):

* the input graph is never mutated (a pass starts from :func:`copy_graph` and rewrites the copy);
* the module docstring of every pass states its algebra; the pure NumPy maths lives in functions
  apart from the graph surgery;
* the :class:`PassRecord` says which nodes changed and the numeric deltas (``max |Δw|``, clipped
  weights, calibrated gain ranges, ...), so reports can be generated from records alone.

Passes register themselves with :func:`register_pass` under a ``verb_object`` name; pipelines refer
to them by name (:mod:`snnc.compiler.pipeline`). What a pass takes is its signature: keyword-only,
typed parameters with defaults. Those named like a :class:`PipelineContext` field (``calibration``,
``run``, ``progress``) are shared context the pipeline hands to every pass that declares them; the others are
the pass's own options (:func:`pass_options`), which the pipeline checks by name (design.md §3.6).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable

import nir

from snnc.errors import SnncError

if TYPE_CHECKING:
    import numpy as np

PassFn = Callable[..., "tuple[nir.NIRGraph, PassRecord]"]


@dataclass
class PassRecord:
    """What one pass did: ``changed`` node names (in the output graph), removed/added nodes,
    numeric ``deltas`` (name -> float or per-layer dict), ``warnings`` and free-form ``details``."""

    name: str
    summary: str = ""
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    deltas: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # measured by run_pipeline, not by the pass

    @property
    def modified(self) -> bool:
        return bool(self.changed or self.removed or self.added)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NumPy scalars converted)."""
        return jsonable({
            "name": self.name, "summary": self.summary, "modified": self.modified, "changed": self.changed,
            "removed": self.removed, "added": self.added, "deltas": self.deltas, "warnings": self.warnings,
            "details": self.details, "seconds": round(self.seconds, 4),
        })


def jsonable(v: Any) -> Any:
    import numpy as np

    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return jsonable(v.tolist())
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


#: pass name -> function; filled by :func:`register_pass` when the pass modules are imported.
PASSES: dict[str, PassFn] = {}


@dataclass(frozen=True)
class PipelineContext:
    """Shared inputs of a whole pipeline: ``calibration`` frames [N, T, *input shape] (or None), the
    interpreter ``run(graph, x, timing=...)`` that probes calibration data (the caller hands it in, the
    reference one is ``snnc.backends.cpu.run``: docs/design.md §3.6) and a ``progress(node, done, total)``
    callback. A pass receives a field by declaring a keyword-only parameter of the same name."""

    calibration: np.ndarray | None = None
    run: Callable[..., Any] | None = None
    progress: Callable[[str, int, int], None] | None = None


CONTEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PipelineContext))


def _keyword_only(fn: PassFn) -> dict[str, inspect.Parameter]:
    return {k: p for k, p in inspect.signature(fn).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def pass_options(fn: PassFn) -> dict[str, inspect.Parameter]:
    """The options pass ``fn`` declares: its keyword-only parameters that are not context fields."""
    return {k: p for k, p in _keyword_only(fn).items() if k not in CONTEXT_FIELDS}


def context_kwargs(fn: PassFn, context: PipelineContext) -> dict[str, Any]:
    """The context fields pass ``fn`` declares, with their values in ``context``."""
    return {k: getattr(context, k) for k in _keyword_only(fn) if k in CONTEXT_FIELDS}


def register_pass(fn: PassFn) -> PassFn:
    """Decorator: register ``fn`` under its ``__name__`` (duplicates are a programming error). Every
    keyword-only parameter must be typed and have a default (a pass runs with no options)."""
    name = fn.__name__
    if name in PASSES and PASSES[name] is not fn:
        raise ValueError(f"pass {name!r} is already registered")
    for k, p in _keyword_only(fn).items():
        if p.annotation is inspect.Parameter.empty or p.default is inspect.Parameter.empty:
            raise ValueError(f"pass {name!r}: option {k!r} needs a type annotation and a default")
    PASSES[name] = fn
    return fn


class PassError(SnncError):
    """Raised by a pass that refuses a graph; the pipeline re-raises it as a one-line SnncError
    naming the pass and its predecessors."""
