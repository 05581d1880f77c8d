"""The ``onnx`` backend: the network as a one-timestep ONNX model, run by ONNX Runtime over T steps.

``export_onnx(graph, path)`` writes the step model (:mod:`snnc.backends.onnx.export`);
``run(graph, x, timing=...)`` exports it in memory and loops it over the T frames of ``x``
(:mod:`snnc.backends.onnx.runner`). onnx and onnxruntime are imported lazily.
"""

from __future__ import annotations

from typing import Any


def export_onnx(graph: Any, path: Any, *, timing: str = "snnc"):
    """Write the one-step ONNX model of ``graph`` to ``path``; returns the StepModel."""
    from snnc.backends.onnx.export import export_onnx as _export

    return _export(graph, path, timing=timing)


def run(graph: Any, x: Any, *, timing: str = "snnc", record_voltage: bool = False, **kwargs: Any):
    """Run ``graph`` on frames ``x`` [N, T, *in_shape] with ONNX Runtime -> SimResult."""
    from snnc.backends.onnx.runner import run as _run

    return _run(graph, x, timing=timing, record_voltage=record_voltage, **kwargs)


__all__ = ["export_onnx", "run"]
