"""Run a Lava spec on a batch and stream every spiking layer out, one ``receive()`` per step.

The N samples run back to back in **one** Lava run of N·(T + pad) steps (see
:mod:`.lavaprocs.neuron`: windows reset the neurons and flush the synapse buffers), started with
``blocking=False`` while the host drains the Extractors step by step. Results are converted to
snnc's layout: spikes [N, T, *shape] per spiking node (C, H, W order), the graph output, and
voltages (v after the reset; integers in fixed point) when asked.

Readout (docs/design.md §3.4; the use cases choose ``"pipeline"``, the library default is ``"unshifted"``
as for the CPU simulator): ``"pipeline"`` pads each window with D zero frames
(D = the longest chain of Dense/Conv layers from the input to the output, :func:`spec_depths`), starts
each neuron layer at its depth d_k, and keeps each layer's T active steps and the output's steps
D … T + D − 1, so the output sees every input frame; ``"unshifted"`` counts steps 0 … T − 1 (the
last D frames never reach the output). Both equal the CPU simulator's Lava timing with the same readout.
"""

from __future__ import annotations

import time

import numpy as np

from snnc.backends.lava import compat
from snnc.backends.lava.layout import chw_to_lava, frames_to_lava
from snnc.backends.result import SimResult
from snnc.compiler.ir import inputs
from snnc.errors import SnncError


def check_input(spec: dict, x) -> np.ndarray:
    """x as float64 [N, T, *in_shape] (:func:`snnc.compiler.ir.inputs.check_input`; fixed point: integers,
    T at most the TimeGain length)."""
    x = inputs.check_input(x, spec["input"]["shape"], fixed=bool(spec["fixed"]), max_T=spec.get("T_gain"))
    return x.astype(np.float64)


def spec_depths(spec: dict) -> dict[str, int]:
    """Layer name -> d_k: the most Dense/Conv layers on a path from the input up to and including it (one
    per delaying node of the graph, so the same numbers as :func:`snnc.compiler.ir.depth.node_depths`)."""
    depth: dict[str, int] = {}
    for layer in spec["layers"]:
        base = max((depth.get(t["src"], 0) for t in layer["sources"]), default=0)
        depth[layer["name"]] = base + (0 if layer["kind"] == "neuron" else 1)
    return depth


def execute(spec: dict, x, *, record_voltage: bool = False, buffer: int = 64, readout: str = "unshifted") -> SimResult:
    """Build, run and read back ``spec`` on x [N, T, *in_shape] (module docstring)."""
    if readout not in ("unshifted", "pipeline"):
        raise SnncError(f"readout: must be 'unshifted' or 'pipeline', got {readout!r}")
    x = check_input(spec, x)
    compat.install()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.extractor import Extractor, PyLoihiExtractorModel

    from snnc.backends.lava.lavaprocs.neuron import PySnncNeuronFixed, PySnncNeuronFloat, SnncNeuron

    from snnc.backends.lava.emit import build

    N, T = x.shape[:2]
    depths = spec_depths(spec)
    D = depths[spec["output"]["src"]]
    pipeline = readout == "pipeline"
    pad = D if pipeline else int(spec["pad"])
    starts = {n: d for n, d in depths.items()} if pipeline else {}
    frames = np.zeros((N, T + pad) + x.shape[2:])
    frames[:, :T] = x
    frames = frames.reshape((N * (T + pad),) + x.shape[2:])
    t0 = time.perf_counter()
    net = build(spec, frames_to_lava(frames), T, record_voltage=record_voltage, buffer=buffer, pad=pad, starts=starts)
    steps = N * (T + pad)
    cfg = Loihi2SimCfg(select_tag="fixed_pt" if spec["fixed"] else "floating_pt",
                       exception_proc_model_map={Extractor: PyLoihiExtractorModel,
                                                 SnncNeuron: PySnncNeuronFixed if spec["fixed"] else PySnncNeuronFloat})
    names = list(net.extractors)
    sizes = {n: int(np.prod(chw_to_lava(_layer(spec, n)["shape"]))) for n in names}
    rec = {n: np.zeros((steps, (2 if record_voltage else 1) * sizes[n])) for n in names}
    net.anchor.run(condition=RunSteps(num_steps=steps, blocking=False), run_cfg=cfg)
    try:
        t1 = time.perf_counter()
        for k in range(steps):
            for n in names:
                rec[n][k] = net.extractors[n].receive()
        net.anchor.wait()
        t2 = time.perf_counter()
    finally:
        net.anchor.stop()
    spikes, volts = {}, {}
    for n in names:
        shape = tuple(_layer(spec, n)["shape"])
        first = starts.get(n, 0)
        r = rec[n].reshape(N, T + pad, -1)[:, first:first + T]
        spikes[n] = _to_chw(r[..., :sizes[n]], N, T, shape).astype(np.float32)
        if record_voltage:
            v = _to_chw(r[..., sizes[n]:], N, T, shape)
            volts[n] = np.round(v).astype(np.int64) if spec["fixed"] else v.astype(np.float32)
    out = spikes[spec["output"]["src"]].reshape((N, T) + tuple(spec["output"]["shape"]))
    extras = {"threshold": spec["threshold"], "backend": "lava", "steps": steps, "pad": pad,
              "build_seconds": t1 - t0, "run_seconds": t2 - t1, "processes": 1 + len(spec["layers"]) + len(names)}
    if pipeline:
        from snnc.compiler.ir.depth import pipeline_extras

        extras.update(pipeline_extras(D, {n: depths[n] for n in names}))
    return SimResult(spikes=spikes, output=out, voltages=volts, timing="lava",
                     numerics="fixed" if spec["fixed"] else "float", extras=extras)


def _layer(spec: dict, name: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["name"] == name)


def _to_chw(flat: np.ndarray, N: int, T: int, shape: tuple[int, ...]) -> np.ndarray:
    """[N, T, prod] in Lava order -> [N, T, *shape] in snnc (C, H, W) order."""
    a = flat.reshape((N, T) + chw_to_lava(shape))
    return a.transpose(0, 1, 4, 3, 2) if len(shape) == 3 else a


def run(graph, x, *, timing: str = "lava", record_voltage: bool = False, clip_weights: bool = False,
        buffer: int = 64, readout: str = "unshifted") -> SimResult:
    """Backend entry point (design.md §5): lower ``graph`` and execute it; ``timing`` must be "lava"."""
    if timing != "lava":
        raise SnncError(f"timing: the Lava backend runs with Lava's timing only ('lava'), got {timing!r}")
    from snnc.backends.lava.lower import lower

    return execute(lower(graph, clip_weights=clip_weights), x, record_voltage=record_voltage, buffer=buffer,
                   readout=readout)
