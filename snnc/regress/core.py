"""``snnc regress``: run an artifact on a fixed, seeded input set and compare spike statistics with a
golden JSON file.

Measured per run (summed over the samples): the spike count of every spiking layer at every step,
and the synaptic operations of every synapse node per step (:mod:`snnc.regress.synops`). The golden
file records them with everything needed to reproduce the run: the inputs (data source, samples,
seed, T), backend, timing, numerics and the graph's sha256.

Inputs: ``synthetic`` (the test split of :mod:`snnc.data`'s seeded DVS-gesture generator) when the
graph takes 2×32×32 frames, otherwise ``bernoulli`` spikes of rate 0.2 from
``np.random.default_rng([seed, 0x5EED])``; T is the graph's ``metadata["snnc"]["T"]`` or 16.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snnc.errors import SnncError

FORMAT = "snnc-golden"
FORMAT_VERSION = 1
DEFAULT_SAMPLES = 8
DEFAULT_SEED = 0
BERNOULLI_RATE = 0.2
#: default relative tolerance for float graphs (docs: why); fixed point is always exact
FLOAT_RTOL = 1e-6
BACKEND_TIMING = {"cpu": "snnc", "onnx": "snnc", "lava": "lava", "loihi2": "lava"}
#: samples per backend run (memory does not grow with --samples)
BATCH = 16


@dataclass
class Loaded:
    """An artifact's graph and the bytes it was read from (for the sha256)."""

    graph: Any
    path: Path
    sha256: str


def load_artifact(path: str | os.PathLike) -> Loaded:
    """An artifact directory (its ``graph.nir``) or any file ``load_graph`` reads; an artifact (or a file
    inside one) is verified against its manifest first (snnc.artifact_manifest.verify_artifact)."""
    from snnc.artifact_manifest import artifact_root, verify_artifact
    from snnc.frontends import load_graph

    p = Path(path)
    if p.is_dir():
        f = p / "graph.nir"
        if not f.is_file():
            raise SnncError(f"{path}: directory has no graph.nir (not an snnc artifact)")
        verify_artifact(p)
    elif p.exists():
        f = p
        if artifact_root(p) is not None:
            verify_artifact(artifact_root(p))
    else:
        raise SnncError(f"{path}: no such file or directory")
    graph = load_graph(f)
    from snnc.compiler.timestep import require_dt

    require_dt(graph, None, where=str(path), how="compile it with `snnc compile --dt SECONDS`, which records it")
    return Loaded(graph, f, hashlib.sha256(f.read_bytes()).hexdigest())


def layer_name(node: str) -> str:
    """``b3_lif`` -> ``b3`` (docs/design.md §3.1); other node names are kept."""
    return node[: -len("_lif")] if node.endswith("_lif") else node


def make_inputs(graph, samples: int, seed: int, T: int | None = None) -> tuple[np.ndarray, dict]:
    """(frames [samples, T, *in_shape] float32, description recorded in the golden file)."""
    x, desc = input_frames(graph, samples, seed, T)
    return np.asarray(x, dtype=np.float32), desc


def input_frames(graph, samples: int, seed: int, T: int | None = None, where: str = "regress"):
    """:func:`make_inputs` as :class:`snnc.data.stream.Frames`, made batch by batch, so memory does not grow
    with ``samples``; refused up front when one batch cannot fit in memory."""
    from snnc.compiler.analysis.memory import require_simulation
    from snnc.compiler.ir.graph_utils import input_names
    from snnc.compiler.ir.shapes import infer_shapes, shape_of
    from snnc.data.default_inputs import REGRESS_DEFAULT_T, default_frames

    if samples < 1:
        raise SnncError(f"--samples: must be >= 1, got {samples}")
    meta = (graph.metadata or {}).get("snnc") or {}
    T = int(T if T is not None else meta.get("T", REGRESS_DEFAULT_T))
    g = infer_shapes(graph)
    shape = tuple(shape_of(g, input_names(g)[0], "output"))
    require_simulation(graph, T, min(samples, BATCH), where)
    x, _ = default_frames(shape, "test", samples, T, density=BERNOULLI_RATE, seed=seed, bernoulli_seed=[seed, 0x5EED])
    synthetic = x.labels is not None
    desc = {"data": "synthetic", "split": "test"} if synthetic else {"data": "bernoulli", "rate": BERNOULLI_RATE}
    return x, {**desc, "samples": int(samples), "seed": int(seed), "T": T, "shape": list(shape)}


#: backends with the pipeline-aware readout; loihi2 has no other under Lava timing (staggered LIFReset)
PIPELINE_BACKENDS = ("cpu", "lava", "loihi2")


def default_readout(backend: str, timing: str) -> str | None:
    """The readout of a new golden file: none under snnc timing; under Lava timing the pipeline-aware one
    where the backend has it (cpu, lava, loihi2: docs/design.md §3.4), else unshifted."""
    if timing != "lava":
        return None
    return "pipeline" if backend in PIPELINE_BACKENDS else "unshifted"


def measure(graph, x, backend: str, timing: str, progress=None, readout: str | None = None) -> dict:
    """Spike counts per layer and step, synaptic operations per synapse and step (summed over samples),
    run BATCH samples at a time (integer counts: the sums equal a one-shot run's). ``readout="pipeline"``
    (Lava timing): each layer's T active steps, on single-depth graphs only."""
    from snnc.backends.registry import get_backend
    from snnc.regress.synops import synops_per_step

    try:
        module = get_backend(backend)
    except ImportError as e:
        raise SnncError(f"--backend {backend}: not available ({e})") from None
    piped = {}
    if readout == "pipeline" and timing == "lava":
        from snnc.compiler.ir.depth import single_depth

        if backend not in PIPELINE_BACKENDS:
            raise SnncError(f"--readout pipeline: the {backend} backend has no pipeline-aware readout; use --readout unshifted")
        if not single_depth(graph):
            raise SnncError("--readout pipeline: regress needs every node at one depth (paths of different depths "
                            "join here); use --readout unshifted")
        piped = {"readout": "pipeline"}
    elif backend == "loihi2" and timing == "lava":
        raise SnncError("--readout unshifted: the loihi2 backend reads the pipeline only under Lava timing "
                        "(staggered LIFReset); use --readout pipeline or a golden file that has it")
    spikes: dict[str, np.ndarray] = {}
    ops: dict[str, np.ndarray] = {}
    numerics = None
    for i in range(0, len(x), BATCH):
        xb = np.asarray(x[i:i + BATCH], dtype=np.float32)
        result = module.run(graph, xb, timing=timing, **piped)
        numerics = result.numerics
        for node, s in result.spikes.items():
            per_t = np.asarray(s, np.float64).reshape(s.shape[0], s.shape[1], -1).sum(axis=(0, 2))
            spikes[node] = per_t if node not in spikes else spikes[node] + per_t
        for name, o in synops_per_step(graph, xb, result).items():
            ops[name] = o if name not in ops else ops[name] + o
        if progress is not None:
            progress(min(i + BATCH, len(x)), len(x))
    layers = {layer_name(node): {"node": node, "spikes_per_t": [_num(v) for v in per_t], "total": _num(per_t.sum())}
              for node, per_t in sorted(spikes.items())}
    synops = {name: {"per_t": [_num(v) for v in o], "total": _num(o.sum())} for name, o in sorted(ops.items())}
    return {"numerics": numerics, "layers": layers, "synops": synops}


def _num(v) -> int | float:
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def build_golden(loaded: Loaded, artifact: str, backend: str, timing: str, samples: int, seed: int,
                 rtol: float, atol: float, readout: str | None = None) -> dict:
    """Run and return a complete golden record (``readout`` recorded only when it is "pipeline": files
    without it are unshifted readouts)."""
    x, inputs = input_frames(loaded.graph, samples, seed, where=str(artifact))
    m = measure(loaded.graph, x, backend, timing, readout=readout)
    piped = {"readout": "pipeline"} if readout == "pipeline" and timing == "lava" else {}
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "artifact": Path(artifact).name,
        "graph_sha256": loaded.sha256, "backend": backend, "timing": timing, **piped, "numerics": m["numerics"],
        "inputs": inputs, "tolerance": {"rtol": rtol, "atol": atol},
        "layers": m["layers"], "synops": m["synops"],
    }


def read_golden(path: str | os.PathLike) -> dict:
    """A golden file, checked for its format; SnncError naming the file otherwise."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise SnncError(f"--golden {path}: no such file (create it with --update)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SnncError(f"--golden {path}: not a readable JSON file ({str(e).splitlines()[0][:120]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SnncError(f"--golden {path}: not an snnc golden file (format {FORMAT!r})")
    from snnc.regress.schema import check_golden

    return check_golden(data, f"--golden {path}")


def write_golden(path: str | os.PathLike, golden: dict) -> None:
    """Write atomically (snnc.io.atomic_path)."""
    from snnc.io import atomic_path

    with atomic_path(path, "--golden") as tmp:
        tmp.write_text(json.dumps(golden, indent=1, sort_keys=False) + "\n")
