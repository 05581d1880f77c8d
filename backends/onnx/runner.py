"""Drive a one-step ONNX model over T frames with ONNX Runtime (single-threaded, deterministic).

States start at zero; at step t the model gets ``x[:, t]``, ``t`` and the states of step t − 1,
and returns the graph output, the spikes (and voltages after reset) of every spiking node and the
next states. The result is a :class:`snnc.backends.result.SimResult` like the CPU simulator's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import nir

from snnc.backends.onnx.exactness import FRAME_MAX as FIXED_INPUT_MAX  # the bound the exactness proof assumes
from snnc.backends.result import SimResult
from snnc.compiler.ir.inputs import check_input


def session(model: Any):
    """An ONNX Runtime session on one thread (bit-reproducible results)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"])


def _check_input(x: np.ndarray, in_shape: tuple[int, ...], fixed: bool) -> np.ndarray:
    """x as float32 [N, T, *in_shape] (:func:`snnc.compiler.ir.inputs.check_input`)."""
    x = check_input(x, in_shape, fixed=fixed, max_abs=FIXED_INPUT_MAX if fixed else None)
    return np.ascontiguousarray(x, dtype=np.float32)


def run(graph: nir.NIRGraph, x: np.ndarray, *, timing: str = "snnc", record_voltage: bool = False,
        step_model: Any = None) -> SimResult:
    """Run ``graph`` on ``x`` [N, T, *in_shape]; spikes of every spiking node [N, T, *shape]."""
    from snnc.backends.onnx.export import build_step_model

    step = step_model or build_step_model(graph, timing=timing)
    x = _check_input(x, step.in_shape, step.numerics == "fixed")
    n, T = x.shape[:2]
    sess = session(step.model)
    state = {s.name: np.zeros((n, *s.shape), dtype=s.dtype) for s in step.states}
    spike_names = [f"spikes__{_safe(s)}" for s in step.spiking]
    volt_names = [f"voltage__{_safe(s)}" for s in step.spiking] if record_voltage else []
    fetch = ["y", *spike_names, *volt_names, *[s.next for s in step.states]]
    spikes = {s: np.zeros((n, T, *st), np.float32) for s, st in zip(step.spiking, _shapes(step))}
    v_dtype = np.float64 if step.numerics == "fixed" else np.float32  # fixed point: the integer v, as the CPU
    volts = {s: np.zeros((n, T, *st), v_dtype) for s, st in zip(step.spiking, _shapes(step))} if record_voltage else {}
    out = np.zeros((n, T, *step.out_shape), np.float32)
    for t in range(T):
        feed = {"x": x[:, t], "t": np.array(t, dtype=np.int64), **state}
        res = sess.run(fetch, feed)
        out[:, t] = res[0]
        k = 1
        for s in step.spiking:
            spikes[s][:, t] = res[k]
            k += 1
        if record_voltage:
            for s in step.spiking:
                volts[s][:, t] = res[k]
                k += 1
        for s in step.states:
            state[s.name] = res[k]
            k += 1
    return SimResult(spikes=spikes, output=out, voltages=volts, timing=timing, numerics=step.numerics,
                     extras={"backend": "onnx"})


def _safe(name: str) -> str:
    from snnc.backends.onnx.builder import safe

    return safe(name)


def _shapes(step) -> list[tuple[int, ...]]:
    by_node = {s.node: s.shape for s in step.states if s.kind == "v"}
    return [by_node[s] for s in step.spiking]
