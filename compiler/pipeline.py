"""Pipelines: explicit ordered pass lists per target, run with ``verify`` after every pass.

``PIPELINES[target]`` is the full list; :func:`select_passes` drops the passes the options switch
off (``fuse_asa_gains`` with ``asa_mode="exact"``, ``quantize`` without fixed point), and
:func:`pipeline_options` adds the per-pass options the target fixes. :func:`run_pipeline` takes the
shared :class:`PipelineContext` and per-pass options keyed by pass name; an option a pass does not
declare is an error naming the pass and the option (design.md §3.6). A failing pass or a graph that
fails :func:`verify` after a pass is reported as one line naming the pass and the passes that ran
before it. The pipeline times every pass (``PassRecord.seconds``).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

import nir

from snnc.compiler.ir.graph_utils import copy_graph
from snnc.compiler.ir.verify import verify
from snnc.compiler.passes import PASSES, PassRecord, PipelineContext, pass_options
from snnc.compiler.passes.base import CONTEXT_FIELDS, context_kwargs
from snnc.errors import SnncError

PIPELINES: dict[str, list[str]] = {
    "cpu": ["fold_batchnorm", "fuse_pooling", "fuse_asa_gains", "fold_static_gains", "quantize"],
    "lava": ["fold_batchnorm", "fuse_pooling", "lower_pooling", "fuse_asa_gains", "fold_static_gains", "quantize"],
    # NetX (lava-dl): the lava passes; backends/netx fuses spike pools into the next conv/dense
    "netx": ["fold_batchnorm", "fuse_pooling", "lower_pooling", "fuse_asa_gains", "fold_static_gains", "quantize"],
    # Loihi 2 chip (stock Lava processes, backends/loihi2): the lava passes, gains folded (granularity c)
    "loihi2": ["fold_batchnorm", "fuse_pooling", "lower_pooling", "fuse_asa_gains", "fold_static_gains", "quantize"],
    "nir": ["fold_batchnorm", "fuse_pooling", "fuse_asa_gains", "fold_static_gains", "fold_lif_r"],
    "onnx": ["fold_batchnorm", "fuse_pooling", "fuse_asa_gains", "fold_static_gains", "quantize"],
}
TARGETS: tuple[str, ...] = tuple(PIPELINES)


class PipelineError(SnncError):
    """A pass failed or left an invalid graph; the message names the pass and its predecessors."""


def select_passes(target: str, *, asa_mode: str = "fused", fixed_point: bool = False) -> list[str]:
    """The passes of ``PIPELINES[target]`` that the options keep, in order."""
    if target not in PIPELINES:
        raise SnncError(f"target: unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    names = list(PIPELINES[target])
    if fixed_point and "quantize" not in names:
        raise SnncError(f"fixed_point: target {target!r} has no fixed-point form (standard NIR has no Loihi neuron)")
    if asa_mode == "exact":
        names.remove("fuse_asa_gains")
        names.remove("fold_static_gains")
    if not fixed_point and "quantize" in names:
        names.remove("quantize")
    return names


def parse_pass_list(text: str) -> list[str]:
    """``"a,b,c"`` -> ["a", "b", "c"], each a registered pass (SnncError naming the unknown one)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if n not in PASSES:
            raise SnncError(f"passes: unknown pass {n!r}; known passes: {', '.join(sorted(PASSES))}")
    if not names:
        raise SnncError("passes: empty pass list")
    return names


def pipeline_options(target: str, names: Sequence[str],
                     **per_pass: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-pass options for running ``names`` for ``target``: the choices the target fixes, updated by
    ``per_pass`` (e.g. ``fuse_asa_gains={"granularity": "tc"}``).

    Decided here, once: Loihi's LIF (the lava target, and every fixed-point graph, i.e. ``quantize``
    in ``names``) has no input rectification, so fused attention drops MA-SNN's ReLU there
    (``fuse_asa_gains`` ``rectify=False``) and keeps it as a rectifying gain elsewhere."""
    options: dict[str, dict[str, Any]] = {
        "fuse_asa_gains": {"rectify": target != "lava" and "quantize" not in names}}
    for name, opts in per_pass.items():
        options[name] = {**options.get(name, {}), **opts}
    return options


def check_options(options: Mapping[str, Mapping[str, Any]]) -> None:
    """PipelineError unless every key is a registered pass and every option one that pass declares.

    Options of a registered pass that is not in the pass list are checked and unused (callers give
    the options of a whole target; :func:`select_passes` may drop the pass)."""
    for name, opts in options.items():
        if name not in PASSES:
            raise PipelineError(f"options for unknown pass {name!r}; known passes: {', '.join(sorted(PASSES))}")
        declared = pass_options(PASSES[name])
        for key in opts:
            if key not in declared:
                hint = f" ({key!r} is shared context: pass it in PipelineContext)" if key in CONTEXT_FIELDS else ""
                raise PipelineError(f"pass {name!r} has no option {key!r}; its options: "
                                    f"{', '.join(sorted(declared)) or 'none'}{hint}")


def _where(name: str, done: list[str]) -> str:
    before = ", ".join(done) if done else "none"
    return f"pass {name!r} (after: {before})"


def run_pipeline(graph: nir.NIRGraph, names: list[str], options: Mapping[str, Mapping[str, Any]] | None = None,
                 on_pass: Callable[[str], None] | None = None, *,
                 context: PipelineContext | None = None) -> tuple[nir.NIRGraph, list[PassRecord]]:
    """Run passes ``names`` in order; ``verify`` the input and every intermediate graph.

    Pass ``p`` receives ``options[p]`` (checked first: :func:`check_options`) and the ``context``
    fields its signature declares. Returns the final graph and one :class:`PassRecord` per pass,
    its ``seconds`` measured here.
    """
    options = dict(options or {})
    check_options(options)
    context = context if context is not None else PipelineContext()
    try:
        verify(graph)
    except SnncError as e:
        raise PipelineError(f"input graph: {e}") from None
    records: list[PassRecord] = []
    done: list[str] = []
    for name in names:
        if name not in PASSES:
            raise PipelineError(f"unknown pass {name!r}; known passes: {', '.join(sorted(PASSES))}")
        if on_pass is not None:
            on_pass(name)
        fn = PASSES[name]
        t0 = time.perf_counter()
        try:
            graph, record = fn(graph, **context_kwargs(fn, context), **dict(options.get(name, {})))
        except SnncError as e:
            raise PipelineError(f"{_where(name, done)} failed: {e}") from None
        record.seconds = time.perf_counter() - t0
        try:
            verify(graph)
        except SnncError as e:
            raise PipelineError(f"{_where(name, done)} produced an invalid graph: {e}") from None
        records.append(record)
        done.append(name)
    graph = copy_graph(graph)  # never hand back (and annotate) the caller's graph
    meta = dict(graph.metadata or {})
    meta.setdefault("snnc", {})
    meta["snnc"] = {**meta["snnc"], "passes": list(done)}
    graph.metadata = meta
    return graph, records
