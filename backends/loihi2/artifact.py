"""The loihi2 artifact: ``loihi2/spec.json`` + ``loihi2/*.npy`` (the Lava spec format, NumPy + JSON only).

``write_loihi2_artifact(graph, dir)`` lowers the compiled graph (:func:`.lower.lower_for_chip`, which
refuses what the chip cannot host) and writes the spec with its window plan (``spec["loihi2"]``);
``run_artifact(dir, x)`` reads it back (after the artifact manifest check) and runs it on Lava's
Loihi 2 simulator with stock processes (:func:`.runner.execute`).
"""

from __future__ import annotations

import json
from pathlib import Path

from snnc.backends.lava.artifact import SPEC, _decode, spec_to_files
from snnc.errors import SnncError

SUBDIR = "loihi2"


def write_loihi2_artifact(graph, directory, *, clip_weights: bool = False) -> list[str]:
    """Lower ``graph`` and write ``directory/loihi2/``; returns the notes for the compile report."""
    from snnc.backends.loihi2.lower import lower_for_chip

    spec = lower_for_chip(graph, clip_weights=clip_weights)
    spec_to_files(spec, Path(directory) / SUBDIR)
    plan = spec["loihi2"]
    n = {k: sum(1 for layer in spec["layers"] if layer["kind"] == k) for k in ("conv", "dense", "neuron")}
    how = ("staggered LIFReset (population k zeroed at window step d_k; no host calls), spikes = the compiled "
           "graph under snnc timing, shifted by d_k" if plan["window"] == "reset" else
           f"{plan['D']} zero steps of padding + Var.set of u, v, Conv.a_buf, Dense.a_buff between windows")
    lif = "LIFReset" if plan["window"] == "reset" else "LIF"
    return [f"loihi2: stock Lava processes only ({n['conv']} Conv, {n['dense']} Dense, {n['neuron']} {lif}, "
            f"RingBuffer source, Extractor sinks); pipeline depth D = {plan['D']}: windows by {how}; output "
            "counted over window steps D..T+D-1"]


def read_spec(directory) -> dict:
    """The loihi2 spec stored in an artifact directory (or its ``loihi2/`` subfolder), manifest-checked."""
    from snnc.artifact_manifest import verify_artifact

    d = Path(directory)
    folder = d / SUBDIR if (d / SUBDIR / SPEC).exists() else d
    if not (folder / SPEC).exists():
        raise SnncError(f"{directory}: no loihi2 spec ({SUBDIR}/{SPEC}); compile with --target loihi2")
    verify_artifact(folder.parent if folder.name == SUBDIR else folder)
    try:
        doc = json.loads((folder / SPEC).read_text())
    except ValueError as e:
        raise SnncError(f"{folder / SPEC}: not valid JSON ({e})") from None
    if doc.get("target") != "loihi2" or "loihi2" not in doc:
        raise SnncError(f"{folder / SPEC}: not an snnc loihi2 spec")
    return _decode(doc, folder)


def run_artifact(directory, x, *, window: str | None = None):
    """Run the spec in ``directory`` on x [N, T, *in_shape] (window plan of the spec unless given)."""
    from snnc.backends.loihi2.runner import execute

    return execute(read_spec(directory), x, window=window)
