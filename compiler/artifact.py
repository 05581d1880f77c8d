"""``compile_model``: input file -> passes -> fidelity -> an artifact directory, written atomically.

The directory (snnc.io.atomic_dir: a failure anywhere leaves nothing) holds

* ``graph.nir``: the compiled IR (extension nodes as placeholders stock NIR opens);
* ``manifest.json``: inputs with sha256, target, options, passes run, package versions, created;
* ``report.json`` / ``report.md``: what each pass changed and the fidelity on held-out samples;
* target extras: ``lava`` -> ``snnc.backends.lava.write_lava_artifact(graph, dir)``; ``onnx`` ->
  ``snnc.backends.onnx.export_onnx(graph, dir / "model.onnx")``; ``nir`` -> ``standard.nir`` when the
  graph has a standard-NIR form (each is skipped with a note when its backend is not installed).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import input_names, node_kind
from snnc.compiler.passes.fuse_asa_gains import DEFAULT_GRANULARITY, GRANULARITIES
from snnc.compiler.pipeline import TARGETS, parse_pass_list, run_pipeline, select_passes
from snnc.compiler.window_attention import is_attention
from snnc.errors import SnncError

Progress = Callable[[str, int, int], None]


@dataclass
class CompileOptions:
    target: str
    passes: str | None = None
    calibrate: int = 64
    holdout: int = 64
    asa_mode: str = "fused"
    gain_granularity: str = DEFAULT_GRANULARITY
    fixed_point: bool | None = None  # None: True for lava, False otherwise
    clip_weights: bool = False
    data: str = "synthetic"
    seed: int = 0

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise SnncError(f"--target: unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        if self.calibrate < 1:
            raise SnncError(f"--calibrate: must be at least 1 sample, got {self.calibrate}")
        if self.holdout < 0:
            raise SnncError(f"--holdout: must be >= 0, got {self.holdout}")
        if self.asa_mode not in ("fused", "exact"):
            raise SnncError(f"--asa-mode: must be 'fused' or 'exact', got {self.asa_mode!r}")
        if self.gain_granularity not in GRANULARITIES:
            raise SnncError(f"--gain-granularity: must be one of {', '.join(GRANULARITIES)}, "
                            f"got {self.gain_granularity!r}")
        if self.target == "lava" and self.asa_mode == "exact":
            raise SnncError("--asa-mode exact: the lava target cannot run ASA exactly (non-causal in time); "
                            "use --asa-mode fused")

    def pass_names(self) -> list[str]:
        if self.passes:
            return parse_pass_list(self.passes)
        fixed = self.fixed_point if self.fixed_point is not None else self.target == "lava"
        return select_passes(self.target, asa_mode=self.asa_mode, fixed_point=fixed)


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
    from snnc.data import load_dataset

    meta = (graph.metadata or {}).get("snnc") or {}
    if "T" not in meta:
        raise SnncError("graph: metadata has no 'T' (timesteps); cannot draw calibration or test frames")
    x, y = load_dataset(data, split, n, int(meta["T"]), seed)
    want = tuple(int(v) for v in np.asarray(graph.nodes[input_names(graph)[0]].input_type["input"]).reshape(-1))
    if tuple(x.shape[2:]) != want:
        raise SnncError(f"--data {data}: frames have shape {list(x.shape[2:])} per step but the graph input is "
                        f"{list(want)}")
    return x, y


def _needs_calibration(graph: nir.NIRGraph, names: list[str]) -> bool:
    has_asa = any(is_attention(n) for n in graph.nodes.values())
    return ("fuse_asa_gains" in names and has_asa) or "quantize" in names


def _target_extras(graph: nir.NIRGraph, target: str, out: Path) -> list[str]:
    """Write the target's own files into ``out``; return notes."""
    notes: list[str] = []
    if target == "lava":
        if importlib.util.find_spec("snnc.backends.lava") is None:
            return ["lava: snnc.backends.lava is not installed; only graph.nir written"]
        mod = importlib.import_module("snnc.backends.lava")
        if hasattr(mod, "write_lava_artifact"):
            mod.write_lava_artifact(graph, out)
        else:
            notes.append("lava: snnc.backends.lava has no write_lava_artifact; only graph.nir written")
    elif target == "onnx":
        if importlib.util.find_spec("snnc.backends.onnx") is None:
            return ["onnx: snnc.backends.onnx is not installed; no model.onnx written"]
        mod = importlib.import_module("snnc.backends.onnx")
        if hasattr(mod, "export_onnx"):
            mod.export_onnx(graph, out / "model.onnx")
        else:
            notes.append("onnx: snnc.backends.onnx has no export_onnx; no model.onnx written")
    elif target == "nir":
        from snnc.compiler.ir.serialize import export_standard, write_graph

        std, reasons = export_standard(graph)
        if reasons:
            notes += [f"nir: no standard.nir: {r}" for r in reasons]
        else:
            write_graph(out / "standard.nir", std)
    return notes


def compile_graph(source: nir.NIRGraph, opts: CompileOptions, progress: Progress | None = None,
                  on_pass: Callable[[str], None] | None = None) -> tuple[nir.NIRGraph, list]:
    """Run ``opts``' pass list on ``source`` (calibrating on ``opts.data`` when a pass needs it);
    returns the compiled graph and the pass records. ``source`` is not modified."""
    names = opts.pass_names()
    calib = None
    if _needs_calibration(source, names):
        calib, _ = load_frames(source, opts.data, "train", opts.calibrate, opts.seed)
    # Loihi's LIF has no input rectification: lava and fixed-point graphs drop MA-SNN attention's ReLU
    rectify = opts.target != "lava" and "quantize" not in names
    options = {"calibration": calib, "granularity": opts.gain_granularity, "clip_weights": opts.clip_weights,
               "progress": progress, "rectify": rectify}
    return run_pipeline(source, names, options, on_pass=on_pass)


def options_from_manifest(artifact: str | Path) -> CompileOptions | None:
    """The :class:`CompileOptions` an artifact directory was compiled with (None if it has no manifest)."""
    path = Path(artifact) / "manifest.json"
    if not path.is_file():
        return None
    try:
        shown = json.loads(path.read_text())["options"]
        known = {f for f in CompileOptions.__dataclass_fields__}
        opts = CompileOptions(**{k: v for k, v in shown.items() if k in known and k != "passes"})
        opts.passes = ",".join(shown["passes"]) if isinstance(shown.get("passes"), list) else shown.get("passes")
        return opts
    except (ValueError, KeyError, TypeError) as e:
        raise SnncError(f"{path}: not a readable snnc manifest ({e})") from None


def compile_model(path: str, out: str, opts: CompileOptions, progress: Progress | None = None,
                  on_pass: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Compile ``path`` for ``opts.target`` into directory ``out``; returns the report dict."""
    from snnc.compiler import fidelity
    from snnc.compiler.ir.serialize import write_graph
    from snnc.compiler.report import build_report, dumps, render_markdown
    from snnc.frontends import load_graph
    from snnc.io import atomic_dir

    opts.validate()
    names = opts.pass_names()
    source = load_graph(path)
    compiled, records = compile_graph(source, opts, progress=progress, on_pass=on_pass)
    fid = None
    if opts.holdout > 0:
        x, y = load_frames(source, opts.data, "test", opts.holdout, opts.seed)
        ref_run = fidelity.run_batched(source, x)
        fid = fidelity.measure(source, compiled, x, y, reference_run=ref_run, progress=progress)
        if opts.target == "lava":  # as deployed: one step of synaptic delay per layer
            fid["lava_timing"] = fidelity.measure(source, compiled, x, y, reference_run=ref_run, progress=progress,
                                                  timing="lava")
    shown = {k: v for k, v in asdict(opts).items()}
    shown["passes"] = names
    with atomic_dir(out) as tmp:
        write_graph(tmp / "graph.nir", compiled)
        notes = _target_extras(compiled, opts.target, tmp)
        report = build_report(target=opts.target, options=shown, records=records, before=source, after=compiled,
                              fidelity=fid, notes=notes)
        manifest = {
            "format": "snnc-artifact", "format_version": 1, "target": opts.target,
            "inputs": [{"path": str(path), "sha256": sha256_file(path), "bytes": Path(path).stat().st_size}],
            "passes": names, "options": shown, "versions": package_versions(),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "files": sorted([p.name for p in tmp.iterdir()] + ["manifest.json", "report.json", "report.md"]),
        }
        (tmp / "report.json").write_text(dumps(report))
        (tmp / "report.md").write_text(render_markdown(report))
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return report
