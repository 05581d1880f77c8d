"""The Lava artifact: ``lava/spec.json`` + ``lava/*.npy`` — everything Lava needs, no torch, no NIR.

``write_lava_artifact(graph, dir)`` lowers the compiled graph (:func:`.lower.lower`, which refuses
unhostable nodes and overflowing fixed-point weights) and writes the spec: JSON for structure and
scalars, one ``.npy`` per array (referenced as ``{"npy": "<file>"}``), written atomically.
``run_artifact(dir, x)`` reads it back with NumPy + JSON only and runs it on Lava
(:func:`.runner.execute`). ``dir`` may be the artifact directory or its ``lava/`` subfolder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from snnc.errors import SnncError

SUBDIR = "lava"
SPEC = "spec.json"


def _encode(obj, arrays: dict[str, np.ndarray], key: str):
    if isinstance(obj, np.ndarray):
        fname = f"{key}.npy"
        arrays[fname] = obj
        return {"npy": fname}
    if isinstance(obj, dict):
        return {k: _encode(v, arrays, f"{key}.{k}" if key else str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v, arrays, f"{key}.{i}") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _decode(obj, folder: Path):
    if isinstance(obj, dict):
        if set(obj) == {"npy"}:
            return np.load(folder / obj["npy"], allow_pickle=False)
        return {k: _decode(v, folder) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, folder) for v in obj]
    return obj


def spec_to_files(spec: dict, folder: Path) -> None:
    """Write ``spec`` into ``folder`` (spec.json + .npy files)."""
    arrays: dict[str, np.ndarray] = {}
    doc = _encode(spec, arrays, "")
    folder.mkdir(parents=True, exist_ok=True)
    for fname, arr in arrays.items():
        np.save(folder / fname, np.ascontiguousarray(arr), allow_pickle=False)
    (folder / SPEC).write_text(json.dumps(doc, indent=1) + "\n")


def read_spec(directory) -> dict:
    """The spec stored in an artifact directory (or its ``lava/`` subfolder), after checking the
    artifact's manifest (every file's size and sha256: snnc.artifact_manifest.verify_artifact)."""
    from snnc.artifact_manifest import verify_artifact

    d = Path(directory)
    folder = d / SUBDIR if (d / SUBDIR / SPEC).exists() else d
    path = folder / SPEC
    if not path.exists():
        raise SnncError(f"{directory}: no Lava spec ({SUBDIR}/{SPEC}); compile with --target lava")
    verify_artifact(folder.parent if folder.name == SUBDIR and not (folder / "manifest.json").exists() else folder)
    try:
        doc = json.loads(path.read_text())
    except ValueError as e:
        raise SnncError(f"{path}: not valid JSON ({e})") from None
    if doc.get("format") != "snnc-lava":
        raise SnncError(f"{path}: not an snnc Lava spec (format {doc.get('format')!r})")
    return _decode(doc, folder)


def write_lava_artifact(graph, directory, *, clip_weights: bool = False) -> Path:
    """Lower ``graph`` and write its spec into ``directory/lava/``; returns that folder.

    The caller (``snnc compile``) owns the directory and its atomic replacement; writing into an
    existing directory only adds the ``lava/`` subfolder.
    """
    from snnc.backends.lava.lower import lower

    spec = lower(graph, clip_weights=clip_weights)
    folder = Path(directory) / SUBDIR
    spec_to_files(spec, folder)
    return folder


def run_artifact(directory, x, *, record_voltage: bool = False, **options):
    """Run the spec in ``directory`` on x [N, T, *in_shape] with Lava (lava timing)."""
    from snnc.backends.lava.runner import execute

    return execute(read_spec(directory), x, record_voltage=record_voltage, **options)
