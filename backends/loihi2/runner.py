r"""Run a loihi2 spec on ``Loihi2SimCfg(select_tag="fixed_pt")`` with stock processes, sample by sample.

Two window schemes, both with stock means only (no custom process; the host only drains the Extractors,
one ``receive()`` per population and step, while a run goes on):

- ``"reset"`` (default when every population has one pipeline depth d_k): the N samples stream back to
  back, frame t of sample m at step m·T + t, followed by D zero frames to drain the pipeline: one run of
  N·T + D steps. ``LIFReset`` zeroes u, v of population k at steps m·T + d_k, the step frame 0 of sample m
  reaches it; the synapse buffers then hold exactly that frame's input. Population k's spikes at
  steps m·T + d_k … m·T + d_k + T − 1 are **snnc timing** of sample m (biases included), which is also the
  CPU simulator's pipeline readout under lava timing (``readout="pipeline"``: each layer's T active steps,
  the output's steps D … T + D − 1); that realigned window is what ``spikes`` holds. Reset cost: no host
  calls; D drain steps per stream.
- ``"pad"`` (any feed-forward graph): each window is T frames + D zero frames, one ``run(T + D)``
  (then ``wait()``); before every window after the first the host zeroes u, v of every LIF and the
  one-step synapse buffers ``Conv.a_buf`` / ``Dense.a_buff`` with ``Var.set`` (u and v alone are not
  enough: the buffers carry the last padding step's spikes into the next window). Each window is
  then a fresh network under **lava timing** (docs/design.md §3.4): ``spikes`` holds all T + D steps
  per sample ([N, T + D, *shape], ``timing="lava"``, ``extras["pad"] = D``), equal to the CPU
  simulator's lava timing on the input padded with D zero frames. Reset cost per sample: measured,
  ``extras["reset_seconds_per_sample"]``.
"""

from __future__ import annotations

import time

import numpy as np

from snnc.backends.lava import compat
from snnc.backends.lava.layout import frames_to_lava
from snnc.backends.result import SimResult
from snnc.compiler.ir import inputs
from snnc.errors import SnncError


def _to_chw(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """[steps, *lava_shape] -> [steps, *shape] in (C, H, W) order."""
    return a.transpose(0, 3, 2, 1) if len(shape) == 3 else a


def _frames(x: np.ndarray, window: str, D: int) -> np.ndarray:
    """The input stream [steps, *in_shape] of each scheme (module docstring)."""
    N, T = x.shape[:2]
    if window == "reset":
        return np.concatenate([x.reshape((N * T,) + x.shape[2:]), np.zeros((D,) + x.shape[2:])])
    padded = np.zeros((N, T + D) + x.shape[2:])
    padded[:, :T] = x
    return padded.reshape((N * (T + D),) + x.shape[2:])


def _zero_state(net) -> None:
    """Var.set every piece of state a window leaves behind: LIF u, v; Conv a_buf; Dense a_buff."""
    for proc in net.neurons():
        proc.u.set(np.zeros(proc.u.shape, np.int32))
        proc.v.set(np.zeros(proc.v.shape, np.int32))
    for proc in net.synapses():
        buf = proc.a_buf if hasattr(proc, "a_buf") else proc.a_buff
        buf.set(np.zeros(buf.shape, np.int32))


def execute(spec: dict, x, *, window: str | None = None, timing: str = "lava") -> SimResult:
    """Build, run and read back ``spec`` on x [N, T, *in_shape] (module docstring)."""
    plan = spec["loihi2"]
    window = window or plan["window"]
    if window not in ("reset", "pad"):
        raise SnncError(f"window: must be 'reset' or 'pad', got {window!r}")
    if window == "reset" and not plan["single_depth"]:
        raise SnncError("window: 'reset' needs every population at one pipeline depth (a join of paths of "
                        "different lengths has several); use window='pad'")
    x = inputs.check_input(x, spec["input"]["shape"], fixed=True, max_T=spec.get("T_gain")).astype(np.float64)
    N, T = x.shape[:2]
    D = int(plan["D"])
    compat.install()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.extractor import Extractor, PyLoihiExtractorModel

    from snnc.backends.loihi2.emit import build, process_classes

    frames = _frames(x, window, D)
    steps = frames.shape[0]
    t0 = time.perf_counter()
    net = build(spec, frames_to_lava(frames), T, window=window)
    build_seconds = time.perf_counter() - t0
    found = process_classes(net)  # what Lava's compiler will compile, found by its own graph walk
    classes = sorted({f"{c.__module__}.{c.__qualname__}" for c in found})
    cfg = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map={Extractor: PyLoihiExtractorModel})
    raw = {n: np.zeros((steps,) + tuple(s.in_port.shape), np.int8) for n, s in net.sinks.items()}
    runs = [(0, steps)] if window == "reset" else [(m * (T + D), T + D) for m in range(N)]
    reset_seconds, run_seconds = [], 0.0
    try:
        for start, n_steps in runs:
            if start:
                t1 = time.perf_counter()
                _zero_state(net)
                reset_seconds.append(time.perf_counter() - t1)
            t1 = time.perf_counter()
            net.source.run(condition=RunSteps(num_steps=n_steps, blocking=False), run_cfg=cfg)
            for k in range(start, start + n_steps):
                for n, s in net.sinks.items():
                    raw[n][k] = s.receive()
            net.source.wait()
            run_seconds += time.perf_counter() - t1
    finally:
        net.source.stop()
    raw = {n: _to_chw(r, tuple(_layer(spec, n)["shape"])) for n, r in raw.items()}
    spikes = {n: _windows(r, window, N, T, D, plan["depths"][n]).astype(np.float32) for n, r in raw.items()}
    last = spikes[spec["output"]["src"]]
    out = last.reshape(last.shape[:2] + tuple(spec["output"]["shape"]))
    extras = {"backend": "loihi2", "window": window, "steps": steps, "D": D, "depths": dict(plan["depths"]),
              "process_classes": classes, "processes": len(found), "build_seconds": build_seconds,
              "run_seconds": run_seconds, "seconds_per_sample": (run_seconds + sum(reset_seconds)) / N,
              "reset_seconds_per_sample": float(np.mean(reset_seconds)) if reset_seconds else 0.0, "raw_spikes": raw}
    if window == "reset" and timing == "lava":
        from snnc.compiler.ir.depth import pipeline_extras

        extras.update(pipeline_extras(D, plan["depths"]))
    if window == "pad":
        extras["pad"] = D
    return SimResult(spikes=spikes, output=out, timing="lava" if window == "pad" else timing, numerics="fixed",
                     extras=extras)


def _windows(raw: np.ndarray, window: str, N: int, T: int, D: int, depth: int) -> np.ndarray:
    """[steps, *shape] -> [N, T, *shape] (reset: steps m·T + d … m·T + d + T − 1) or [N, T + D, *shape] (pad)."""
    if window == "pad":
        return raw.reshape((N, T + D) + raw.shape[1:])
    idx = np.arange(N)[:, None] * T + depth + np.arange(T)[None, :]
    return raw[idx]


def _layer(spec: dict, name: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["name"] == name)
