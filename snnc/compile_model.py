"""The compile use case, ``compile_model``: input file -> passes -> fidelity -> an artifact directory, written atomically.

The directory (snnc.io.atomic_dir: a failure anywhere leaves nothing) holds

* ``graph.nir``: the compiled IR (extension nodes as placeholders stock NIR opens);
* ``manifest.json`` (written last, snnc.artifact_manifest): sha256 and size of every other file, inputs with
  sha256, target, options, passes run, package versions, created;
* ``report.json`` / ``report.md``: what each pass changed and the fidelity on held-out samples;
* target extras: ``lava`` -> ``snnc.backends.lava.write_lava_artifact(graph, dir)``; ``onnx`` ->
  ``snnc.backends.onnx.export_onnx(graph, dir / "model.onnx")``; ``nir`` -> ``standard.nir`` when the
  graph has a standard-NIR form.

It lives in the app layer (docs/design.md §1): it reads data (:mod:`snnc.compile_data`), loads
files through the frontends and hands the compiler the reference interpreter ``snnc.backends.cpu.run``
(:func:`interpreter`: with event-driven float convolutions unless ``--float-conv dense``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import nir

from snnc.compile_data import SYNTHETIC_SHAPE, frames_for, graph_input_shape, resolve_T
from snnc.compile_prep import prepare_source
from snnc.compiler.compile_options import CompileOptions
from snnc.compiler.passes import PipelineContext
from snnc.compiler.pipeline import pipeline_options, run_pipeline
from snnc.compiler.window_attention import is_attention
from snnc.errors import SnncError

__all__ = ["CompileOptions", "compile_graph", "compile_model", "interpreter", "load_frames",
           "options_from_manifest", "package_versions", "sha256_file"]

Progress = Callable[[str, int, int], None]


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def package_versions() -> dict[str, str | None]:
    """Installed versions (read from metadata: nothing is imported)."""
    out: dict[str, str | None] = {}
    for pkg in ("snnc", "nir", "numpy", "torch", "lava-nc", "onnx", "onnxruntime", "norse"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def load_frames(graph: nir.NIRGraph, data: str, split: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames [n, T, *input shape], labels) of ``data`` matching the graph's input; SnncError otherwise."""
    T = resolve_T(graph, None, data)
    got = frames_for(graph, data, split, n, seed, T, fallback=False)
    if got is None:
        raise SnncError(f"--data {data}: frames have shape {list(SYNTHETIC_SHAPE)} per step but the graph input is "
                        f"{list(graph_input_shape(graph))}")
    return got[0], got[1]


def interpreter(opts: CompileOptions) -> Callable[..., Any]:
    """The reference interpreter a compile with ``opts`` runs its graphs on (calibration, probes, fidelity).

    ``float_conv="auto"``: ``snnc.backends.cpu.run(..., conv="auto")``, event-driven float convolutions where a
    conv's inputs are sparse (float32 sums in another order than PyTorch's, so a membrane potential within
    rounding of the threshold may spike differently); ``"dense"``: PyTorch's conv, bit-identical to the model.
    Fixed-point graphs give the same integers either way (docs/design.md §5)."""
    from functools import partial

    from snnc.backends.cpu import run

    return run if opts.float_conv == "dense" else partial(run, conv="auto")


def _calibration(source: nir.NIRGraph, opts: CompileOptions, names: list[str], notes: list[str]) -> np.ndarray | None:
    """Calibration frames, or None. ASA gains need data (random events of the input shape when none
    fits); fixed-point scales use data when it fits and come from the weights alone otherwise."""
    attention = sorted(n for n, node in source.nodes.items() if is_attention(node))
    T = ((source.metadata or {}).get("snnc") or {}).get("T")
    if "fuse_asa_gains" in names and attention:
        if opts.calibrate < 1:
            raise SnncError(f"--calibrate 0: node {attention[0]!r} ({type(source.nodes[attention[0]]).__name__}) "
                            "needs calibration data for its gains")
        x, _, note = frames_for(source, opts.data, "train", opts.calibrate, opts.seed, T, fallback=True)
        notes += [f"calibration: {note}"] if note else []
        return x
    if "quantize" in names:
        got = None if opts.calibrate < 1 else frames_for(source, opts.data, "train", opts.calibrate, opts.seed, T,
                                                         fallback=False)
        if got is None:
            notes.append("quantize: fixed-point scales from the weights only (no calibration data"
                         + (")" if opts.calibrate < 1 else f" fits the graph input {list(graph_input_shape(source))})"))
            return None
        return got[0]
    return None


def _target_extras(graph: nir.NIRGraph, target: str, out: Path) -> list[str]:
    """Write the target's own files into ``out``; return notes."""
    notes: list[str] = []
    if target == "lava":
        from snnc.backends.lava import write_lava_artifact

        write_lava_artifact(graph, out)
        notes.append("lava: this artifact is simulation-only (its neurons are snnc's SnncNeuron, a CPU-only Python "
                     "process of Lava); for a Loihi 2 chip compile with --target loihi2 (stock Lava processes)")
    elif target == "loihi2":
        from snnc.backends.loihi2 import write_loihi2_artifact

        notes += write_loihi2_artifact(graph, out)
    elif target == "netx":
        from snnc.backends.netx import write_netx_artifact

        write_netx_artifact(graph, out)
    elif target == "onnx":
        from snnc.backends.onnx import export_onnx

        export_onnx(graph, out / "model.onnx")
    elif target == "nir":
        from snnc.compiler.ir.serialize import export_standard, write_graph

        std, reasons = export_standard(graph)
        if reasons:
            notes += [f"nir: no standard.nir: {r}" for r in reasons]
        else:
            write_graph(out / "standard.nir", std)
    return notes


def compile_graph(source: nir.NIRGraph, opts: CompileOptions, progress: Progress | None = None,
                  on_pass: Callable[[str], None] | None = None,
                  notes: list[str] | None = None, *, run: Callable[..., Any]) -> tuple[nir.NIRGraph, list]:
    """Run ``opts``' pass list on ``source`` (calibrating on ``opts.data`` when a pass needs it);
    returns the compiled graph and the pass records (notes on the data used go to ``notes``).
    ``source`` is not modified. ``run``: the interpreter that probes calibration data."""
    names = opts.pass_names()
    calib = _calibration(source, opts, names, notes if notes is not None else [])
    options = pipeline_options(opts.target, names, fuse_asa_gains={"granularity": opts.gain_granularity},
                               quantize={"clip_weights": opts.clip_weights})
    return run_pipeline(source, names, options, on_pass=on_pass,
                        context=PipelineContext(calibration=calib, run=run, progress=progress))


def lava_timing_note(compiled) -> str:
    """How the report's Lava-timing fidelity was read out (docs/design.md §3.4)."""
    from snnc.compiler.ir.depth import pipeline_depth, single_depth

    D = pipeline_depth(compiled)
    how = ("every layer at one depth, so it equals snnc timing shifted by each layer's depth: the snnc-timing run "
           "was reused" if single_depth(compiled) else "run separately (paths of different depths join)")
    return (f"lava timing: pipeline-aware readout, D = {D} zero frames padded per sample, output counted over "
            f"steps D..T+D-1; {how}")


def options_from_manifest(artifact: str | Path) -> CompileOptions | None:
    """The :class:`CompileOptions` an artifact directory was compiled with (None if it has no manifest).

    The manifest is schema-checked (snnc.artifact_manifest.read_manifest: types of every option)."""
    from snnc.artifact_manifest import read_manifest

    path = Path(artifact) / "manifest.json"
    if not path.is_file():
        return None
    shown = read_manifest(artifact)["options"]
    known = {f for f in CompileOptions.__dataclass_fields__}
    opts = CompileOptions(**{"float_conv": "dense",  # the only way before the option was recorded
                             **{k: v for k, v in shown.items() if k in known and k != "passes"}})
    opts.passes = ",".join(shown["passes"]) if isinstance(shown.get("passes"), list) else shown.get("passes")
    try:
        opts.validate()
    except SnncError as e:
        raise SnncError(f"{path}: options: {e}") from None
    return opts


def compile_model(path: str, out: str, opts: CompileOptions, progress: Progress | None = None,
                  on_pass: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Compile ``path`` for ``opts.target`` into directory ``out``; returns the report dict."""
    from snnc.compiler import fidelity
    from snnc.compiler.ir.serialize import write_graph
    from snnc.compiler.report import build_report, dumps, render_markdown
    from snnc.frontends import load_graph
    from snnc.artifact_manifest import write_manifest
    from snnc.io import atomic_dir

    opts.validate()
    graph = load_graph(path, convention=opts.convention)
    if opts.convention and opts.target != "cpu":  # per-node semantics: the cpu simulator only
        from snnc.frontends.conventions import refuse_cpu_only_semantics

        refuse_cpu_only_semantics(graph, f"--target {opts.target}")
    source, notes = prepare_source(graph, opts, str(path))
    names = opts.pass_names()
    run = interpreter(opts)
    compiled, records = compile_graph(source, opts, progress=progress, on_pass=on_pass, notes=notes, run=run)
    fid = None
    if opts.holdout > 0:
        T = ((source.metadata or {}).get("snnc") or {}).get("T")
        x, y, note = frames_for(source, opts.data, "test", opts.holdout, opts.seed, T, fallback=True)
        notes += [f"hold-out: {note}; fidelity is spike agreement only (no labels, no accuracy)"] if note else []
        # streamed batch by batch; lava as deployed: one step of synaptic delay per layer
        runs = fidelity.measure_timings(source, compiled, x, y, ("snnc", "lava") if opts.target == "lava" else ("snnc",),
                                        progress=progress, run=run)
        fid = runs["snnc"]
        if "lava" in runs:
            fid["lava_timing"] = runs["lava"]
            notes.append(lava_timing_note(compiled))
    shown = {k: v for k, v in asdict(opts).items()}
    shown["passes"] = names
    with atomic_dir(out) as tmp:
        write_graph(tmp / "graph.nir", compiled)
        notes = notes + _target_extras(compiled, opts.target, tmp)
        report = build_report(target=opts.target, options=shown, records=records, before=source, after=compiled,
                              fidelity=fid, notes=notes)
        (tmp / "report.json").write_text(dumps(report))
        (tmp / "report.md").write_text(render_markdown(report))
        # last: lists the sha256 and size of every file above (snnc.artifact_manifest, verified on every load)
        write_manifest(tmp, target=opts.target, passes=names, options=shown, versions=package_versions(),
                       inputs=[{"path": str(path), "sha256": sha256_file(path), "bytes": Path(path).stat().st_size}],
                       created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    return report
