"""Frames for calibration and the fidelity hold-out: which data, how many steps T, and the fallback.

``--data`` is ``"synthetic"`` (the synthetic DVS gestures, 2×32×32), a DVS128 Gesture folder, or an
``.npy`` (x) / ``.npz`` (x, optional labels y) file of shape [N, T, *graph input]. The number of
steps is :func:`resolve_T`: ``--T``, else the file's T, else ``metadata["snnc"]["T"]``; a ``--T``
that disagrees with the file is an error naming both.

When the data is ``"synthetic"`` but the graph's input is not 2×32×32 (a third-party NIR graph),
:func:`frames_for` either returns None (the caller does without: fixed-point scales then come from
the weights alone) or, with ``fallback=True``, random binary events of the graph's input shape
(density 0.1, seeded; no labels) together with a note for the report. An explicit folder or file
that does not fit is an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import input_names
from snnc.data.default_inputs import SYNTHETIC_SHAPE
from snnc.errors import SnncError

RANDOM_DENSITY = 0.1
_SPLIT_STREAM = {"train": 0, "test": 1}


def graph_input_shape(graph: nir.NIRGraph) -> tuple[int, ...]:
    """Per-step shape of the graph's input."""
    node = graph.nodes[input_names(graph)[0]]
    return tuple(int(v) for v in np.asarray(node.input_type["input"]).reshape(-1))


def is_array_file(data: str | None) -> bool:
    return bool(data) and Path(str(data)).suffix in (".npy", ".npz")


def read_array_file(data: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(x, labels or None) of an ``.npy`` (x) or ``.npz`` (x, optional y) file; SnncError naming it."""
    p = Path(data)
    if not p.is_file():
        raise SnncError(f"--data {data}: no such file")
    try:
        blob = np.load(p, allow_pickle=False)
        if isinstance(blob, np.ndarray):
            return blob, None
        if "x" not in blob:
            raise SnncError(f"{data}: an .npz needs an array 'x' (and optionally labels 'y')")
        return np.asarray(blob["x"]), (np.asarray(blob["y"]) if "y" in blob else None)
    except SnncError:
        raise
    except Exception as e:  # noqa: BLE001 - any unreadable file is a user error
        raise SnncError(f"{data}: cannot read ({type(e).__name__}: {e})") from None


def file_steps(data: str) -> int:
    """T of an array file ([N, T, ...]); SnncError for fewer than 2 dimensions."""
    if Path(data).suffix == ".npy" and Path(data).is_file():
        try:  # the header only: the frames are read once, later
            x = np.load(data, mmap_mode="r", allow_pickle=False)
        except Exception:  # noqa: BLE001 - read_array_file names the problem
            x, _ = read_array_file(data)
    else:
        x, _ = read_array_file(data)
    if x.ndim < 2:
        raise SnncError(f"{data}: input shape {list(x.shape)} is not [N, T, ...]")
    return int(x.shape[1])


def resolve_T(graph: nir.NIRGraph, T: int | None, data: str | None) -> int | None:
    """Steps per sample: ``--T``, the file's T or the graph's; SnncError when --T and the file disagree."""
    if T is not None and T < 1:
        raise SnncError(f"--T: must be at least 1 step, got {T}")
    if is_array_file(data):
        steps = file_steps(str(data))
        if T is not None and T != steps:
            raise SnncError(f"--T {T} disagrees with --data {data}, which holds {steps} steps per sample")
        return steps
    if T is not None:
        return int(T)
    meta_T = ((graph.metadata or {}).get("snnc") or {}).get("T")
    return None if meta_T is None else int(meta_T)


def check_steps_fit(graph: nir.NIRGraph, T: int, what: str) -> None:
    """SnncError when a window-attention node (its ``T``) or a TimeGain (its gain table) was made for
    other steps than the T of this run (``what`` names where T came from)."""
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind in ("ASA", "MultiDimAttention") and int(node.T) != int(T):
            raise SnncError(f"{what}: T = {T} steps, but attention node {name!r} was built for T = {int(node.T)}")
        if kind == "TimeGain" and np.asarray(node.gain).shape[0] < int(T):
            raise SnncError(f"{what}: T = {T} steps, but TimeGain {name!r} holds gains for "
                            f"{np.asarray(node.gain).shape[0]} steps (compile with --T {T})")


def _check_shape(x: np.ndarray, want: tuple[int, ...], data: str) -> None:
    if x.ndim != 2 + len(want) or tuple(x.shape[2:]) != want:
        raise SnncError(f"--data {data}: frames have shape {list(x.shape[2:]) if x.ndim > 2 else list(x.shape)} per "
                        f"step but the graph input is {list(want)}")


def frames_for(graph: nir.NIRGraph, data: str, split: str, n: int, seed: int, T: int | None, *,
               fallback: bool) -> tuple[np.ndarray, np.ndarray | None, str | None] | None:
    """(frames [n, T, *input], labels or None, note or None) for ``split``; None when ``data`` is
    ``"synthetic"``, the graph input is not 2×32×32 and ``fallback`` is False (module docstring)."""
    from snnc.compiler.analysis.memory import require_simulation
    from snnc.data import load_dataset
    from snnc.data.default_inputs import default_frames

    want = graph_input_shape(graph)
    if is_array_file(data):  # validated on load (snnc.data.arrays): shape, values, labels
        from snnc.compiler.fidelity import readout_classes
        from snnc.data.arrays import load_frames_file

        fr = load_frames_file(str(data), n, want, readout_classes(graph))
        return fr, fr.labels, None
    if T is None:
        raise SnncError("--T: the graph's metadata has no T (timesteps) and none was given; pass --T STEPS "
                        "(or --data FILE.npy, whose T is used)")
    if data == "synthetic" and want != SYNTHETIC_SHAPE:
        if not fallback:
            return None
        require_simulation(graph, int(T), min(n, 32), f"--{'holdout' if split == 'test' else 'calibrate'} {n}")
        x, _ = default_frames(want, split, n, int(T), density=RANDOM_DENSITY, seed=seed,
                              bernoulli_seed=[seed, _SPLIT_STREAM.get(split, 2)])  # made per batch
        return x, None, (f"no data fits the graph input {list(want)}: {split} frames are random binary events "
                         f"(density {RANDOM_DENSITY}, seed {seed}; no labels)")
    if data == "synthetic":  # made batch by batch: memory does not grow with n
        require_simulation(graph, int(T), min(n, 32), f"--{'holdout' if split == 'test' else 'calibrate'} {n}")
        x, _ = default_frames(want, split, n, int(T), density=RANDOM_DENSITY, seed=seed)
        return x, x.labels, None
    x, y = load_dataset(data, split, n, int(T), seed)
    _check_shape(x, want, data)
    return x, y, None
