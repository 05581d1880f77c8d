"""What ``snnc simulate`` runs on: the graph (an artifact, verified by its manifest, or any file the frontends
read) and the frames (``--data``: synthetic, an .npy/.npz file, or a DVS128 Gesture folder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import nir

from snnc.compiler.ir.inputs import check_input_shape
from snnc.data.stream import Frames
from snnc.errors import SnncError

SYNTHETIC_DENSITY = 0.1


def load_any(path: str, what: str = "ARTIFACT", convention: str | None = None) -> nir.NIRGraph:
    """An artifact directory (graph.nir inside) or any file ``snnc.frontends.load_graph`` reads.

    An artifact (or a file inside one) is verified against its manifest first
    (snnc.artifact_manifest.verify_artifact: every file's size and sha256)."""
    from snnc.artifact_manifest import artifact_root, verify_artifact
    from snnc.frontends import load_graph

    p = Path(path)
    if not p.exists():
        raise SnncError(f"{path}: no such file or directory")
    if p.is_dir():
        if convention is not None:
            raise SnncError(f"--convention: {path} is a compiled artifact; give the convention to `snnc compile`")
        if not (p / "graph.nir").is_file():
            raise SnncError(f"{path}: directory holds no graph.nir (not an `snnc compile` artifact)")
        verify_artifact(p)
        p = p / "graph.nir"
    elif artifact_root(p) is not None:
        verify_artifact(artifact_root(p))
    return load_graph(str(p), convention=convention)


def graph_meta(g: nir.NIRGraph) -> dict:
    return (g.metadata or {}).get("snnc") or {}


def input_shape(g: nir.NIRGraph) -> tuple[int, ...]:
    from snnc.compiler.ir.graph_utils import input_names
    from snnc.compiler.ir.shapes import infer_shapes, shape_of

    return tuple(shape_of(infer_shapes(g), input_names(g)[0], "output"))


def load_data(data: str, g: nir.NIRGraph, samples: int, T: int, seed: int) -> tuple[Frames, np.ndarray | None, str]:
    """(frames [N, T, *in_shape], made batch by batch where they are generated; labels or None; description)."""
    from snnc.data.default_inputs import default_frames
    from snnc.data.stream import array_frames

    shape = input_shape(g)
    if data == "synthetic":
        x, desc = default_frames(shape, "test", samples, T, density=SYNTHETIC_DENSITY, seed=seed)
        return x, x.labels, desc
    if data == "synthetic-hard":  # snnc.data.synthetic_hard: 11 classes, 2×32×32 frames
        from snnc.data import load_dataset

        xa, y = load_dataset(data, "test", samples, T, seed)
        return array_frames(xa, y), y, "synthetic-hard DVS gestures (test split)"
    p = Path(data)
    if p.is_file() and p.suffix in (".npy", ".npz"):
        from snnc.compiler.fidelity import readout_classes
        from snnc.data.arrays import load_frames_file

        x = load_frames_file(data, samples, shape, readout_classes(g))
        return x, x.labels, f"{data}"
    if p.is_dir():
        from snnc.data import load_dataset

        xa, y = load_dataset(str(p), "test", samples, T, seed)
        return array_frames(xa, y), y, f"DVS128 Gesture folder {data} (test split)"
    if p.is_file():
        raise SnncError(f"--data {data}: a file but not .npy/.npz; expected 'synthetic', 'synthetic-hard', an .npy/.npz "
                        "file (x [N, T, ...], optional labels y) or a DVS128 Gesture folder")
    raise SnncError(f"--data {data}: no such file or folder; expected 'synthetic', 'synthetic-hard', an .npy/.npz "
                    "file or a DVS128 Gesture folder")


def _check_data(x: Frames, g: nir.NIRGraph, data: str) -> None:
    """The frames' per-step shape is the graph's input (the values are checked where they are loaded)."""
    check_input_shape(x.shape, input_shape(g), data)
