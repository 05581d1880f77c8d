"""The reference CPU simulator: executes an snnc IR graph on a batch [N, T, *in_shape].

Two schedules with identical results:

- **layer by layer** (feed-forward graphs): each node processes all T steps at once; stateless
  nodes fold T into the batch (required for ASA, which needs the whole window). Chains of stateless
  nodes with a single consumer (conv → BN → pool) run fused over chunks of whole samples, so the
  large pre-pool tensors never exist for the full batch. Neurons step through t in place on views
  z[:, t]; ASA runs on the whole batch, exactly as the model calls it.
- **step by step** (graphs with cycles, e.g. a recurrent Affine around a CubaLIF): every node
  advances one step at a time; a recurrent edge carries its source's value of the previous step.

Several edges into one node are summed in edge order. Timing (docs/design.md §3.4): under
``"lava"`` every delaying node (Affine, Linear, Conv2d, SumPool2d, AvgPool2d) computes f(x_{t−1})
(x_{−1} = 0, so its bias is not delayed), and a TimeGain reads its gain at the source step
max(0, t − d). ``observer(name, frames, n)`` (optional) sees the input frames of every synapse node
(Conv2d, Affine, Linear) as they are processed; the synaptic-operation counter uses it.

Float: float32, the same torch calls and operation order as the snnc PyTorch models, so spikes are
bit-identical to ``model.forward_record`` (tested for every family). Fixed point (``numerics ==
"fixed"`` or LoihiLIF nodes): integer values in float64 (exact below 2^53) through the synapses, Lava's
integer neuron (:mod:`snnc.backends.cpu.neurons`).
"""

from __future__ import annotations

import contextlib
import os
from typing import Callable

import numpy as np
import nir
import torch

from snnc.backends.cpu import lif_loop
from snnc.backends.cpu.neurons import make_neuron
from snnc.backends.cpu.ops import CONV_MODES, FRAME_KINDS, frame_kernel
from snnc.backends.result import SimResult
from snnc.compiler.fixed_point import time_gain_apply, time_gain_float
from snnc.compiler.ir import inputs
from snnc.compiler.ir.graph_utils import back_edges, node_kind, predecessors, successors, topological_order
from snnc.compiler.ir.kinds import DELAYING_KINDS, NEURON_KINDS, SYNAPSE_KINDS
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.ir.verify import check_supported, timegain_depth
from snnc.compiler.window_attention import ATTENTION_KINDS
from snnc.errors import SnncError

DEFAULT_CHUNK_FRAMES = 64  # one sample at T = 60: a conv output of 15.7 MB reuses heap pages (no fresh mmap + page faults)
Observer = Callable[[str, torch.Tensor, int], None]


class Plan:
    """Everything ``run`` derives from the graph once: order, kernels, conventions."""

    def __init__(self, graph: nir.NIRGraph, timing: str, threshold: str | None, dt: float | None,
                 channels_last: bool, conv: str = "dense") -> None:
        if timing not in ("snnc", "lava"):
            raise SnncError(f"timing: must be 'snnc' or 'lava', got {timing!r}")
        if conv not in CONV_MODES:
            raise SnncError(f"conv: must be one of {', '.join(CONV_MODES)}, got {conv!r}")
        check_supported(graph)
        self.g = infer_shapes(graph)
        meta = (self.g.metadata or {}).get("snnc") or {}
        kinds = {node_kind(n) for n in self.g.nodes.values()}
        self.fixed = meta.get("numerics") == "fixed" or "LoihiLIF" in kinds
        self.dtype = torch.float64 if self.fixed else torch.float32
        self.threshold = threshold or meta.get("threshold", ">")
        if self.threshold not in (">", ">="):
            raise SnncError(f"threshold: must be '>' or '>=', got {self.threshold!r}")
        self.reset = meta.get("reset", "zero")
        self.dt = float(dt if dt is not None else meta.get("dt", 1e-3))
        self.timing = timing
        self.order = topological_order(self.g)
        self.pred = predecessors(self.g)
        self.succ = successors(self.g)
        self.back = back_edges(self.g)
        self.kernels = {n: frame_kernel(node, shape_of(self.g, n, "output"), self.dtype, self.fixed, channels_last, conv)
                        for n, node in self.g.nodes.items() if node_kind(node) in FRAME_KINDS}
        self.inputs = [n for n in self.order if isinstance(self.g.nodes[n], nir.Input)]
        self.outputs = [n for n in self.order if isinstance(self.g.nodes[n], nir.Output)]
        self.depth = {n: timegain_depth(self.g, n) for n, node in self.g.nodes.items()
                      if node_kind(node) == "TimeGain"} if timing == "lava" else {}

    def kind(self, name: str) -> str:
        return node_kind(self.g.nodes[name])

    def delays(self, name: str) -> bool:
        return self.timing == "lava" and self.kind(name) in DELAYING_KINDS

    def source_steps(self, name: str, T: int) -> np.ndarray:
        d = self.depth.get(name, 0)
        return np.maximum(0, np.arange(T) - d)


def check_input(plan: Plan, x) -> torch.Tensor:
    """x as a tensor [N, T, *in_shape] (:func:`snnc.compiler.ir.inputs.check_input`)."""
    x = inputs.check_input(x, shape_of(plan.g, plan.inputs[0], "output"))
    return torch.as_tensor(np.ascontiguousarray(x), dtype=plan.dtype)


def _shift(z: torch.Tensor) -> torch.Tensor:
    """z delayed by one step along axis 1 (zeros at t = 0)."""
    out = torch.zeros_like(z)
    out[:, 1:] = z[:, :-1]
    return out


def _timegain(plan: Plan, name: str, z: torch.Tensor, steps: np.ndarray, owned: bool = False) -> torch.Tensor:
    """y[:, t] = g[s(t)] · z[:, t]; fixed point: floor(z · gain_mant[s(t)] / 2^gain_shift)
    (:func:`snnc.compiler.fixed_point.time_gain_apply` / ``time_gain_float``). ``owned``: z is a
    temporary nobody else reads, so the float product may overwrite it."""
    node = plan.g.nodes[name]
    if node.rectify:  # y = g · max(z, 0)
        z = z.clamp_min_(0.0) if owned else z.clamp_min(0.0)
        owned = True
    if plan.fixed and np.asarray(node.gain_mant).size:
        m = torch.as_tensor(np.asarray(node.gain_mant, np.float64)[steps], dtype=torch.float64)
        return time_gain_apply(z, m, node.gain_shift)
    g = torch.as_tensor(np.asarray(node.gain, np.float32)[steps], dtype=plan.dtype)
    # owned: the same elementwise product into z, no new [N, T, ...] tensor
    return time_gain_float(z, g, inplace=owned and torch.broadcast_shapes(z.shape, g.shape) == z.shape)


@contextlib.contextmanager
def _elementwise_threads():
    """Per-step elementwise loops (neurons) use one torch thread when the machine is busy (1-minute
    load average ≥ cores − 0.5): there, OpenMP's fork/join per small op cost ~10× (measured with 2
    threads at load 3.5). Results do not depend on the thread count (elementwise ops)."""
    before = torch.get_num_threads()
    try:
        busy = os.getloadavg()[0] >= (os.cpu_count() or 1) - 0.5
    except OSError:  # pragma: no cover
        busy = False
    if busy:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _asa(plan: Plan, name: str, z: torch.Tensor, owned: bool = False) -> torch.Tensor:
    """y = z · f(z) for a window-attention node (ASA or MultiDimAttention): the model's exact float32
    factor (``snnc.compiler.window_attention.factor``), called exactly as the model calls it (whole
    batch, caller's threads). Splitting the batch is not bit-identical at paper size (measured: running
    it one sample at a time changed spikes), so it is not chunked. Float ASA graphs use
    :func:`_asa_apply` (same values, fewer full-size passes)."""
    from snnc.compiler.window_attention import factor

    node = plan.g.nodes[name]
    if z.shape[1] != int(node.T):
        raise SnncError(f"input: attention node {name!r} needs T = {node.T} steps, got {z.shape[1]}")
    if not plan.fixed and plan.kind(name) == "ASA":
        return _asa_apply(z, node, owned)
    z32 = z.to(torch.float32)
    y = z32 * factor(node, z32)
    return y.to(plan.dtype)


def _asa_apply(x: torch.Tensor, node, owned: bool) -> torch.Tensor:
    """``x * asa_factor(x, ...)`` with the same float32 values (snnc.models.asa.asa_factor, whose steps up to
    A1, A2 are repeated here call for call on the whole batch). Its last line, I·A1 + (1 − I)·A2 with I ∈ {0, 1}
    and A1, A2 ∈ (0, 1), equals ``where(I, A1, A2)`` exactly (1·a + 0·b = a, 0·a + 1·b = b in IEEE float), so
    the factor is one ``where`` instead of two products and a sum over [N, T, C, H, W], and the final
    product overwrites x when x is a temporary (``owned``). Equality with the model is tested
    (tests/backends/cpu/test_cpu_exact_models.py) and checked at paper size in bench/bench_cpu.py."""
    import torch.nn.functional as F

    from snnc.compiler.window_attention import asa_arguments
    from snnc.models.asa import _t, asa_masks

    (alpha, gamma, fc1, fc2, _, _, lam), options = asa_arguments(node)
    n, t, c, h, w = x.shape
    imp = asa_masks(x, alpha, gamma, fc1, fc2, lam, **options)[..., None, None]  # (N, T, C, 1, 1)
    sub = 1.0 - imp
    x_imp = (imp * x).reshape(n, t * c, h, w)
    d_imp = torch.cat([x_imp.mean(dim=1, keepdim=True) / lam, x_imp.amax(dim=1, keepdim=True)], dim=1)
    del x_imp
    x_sub = (sub * x).reshape(n, t * c, h, w)
    d_sub = torch.cat([x_sub.mean(dim=1, keepdim=True) / (1.0 - lam), x_sub.amax(dim=1, keepdim=True)], dim=1)
    del x_sub
    a1 = torch.sigmoid(F.conv2d(d_imp, _t(node.conv1, x), padding=1))  # (N, 1, H, W)
    a2 = torch.sigmoid(F.conv2d(d_sub, _t(node.conv2, x), padding=1))
    factor = torch.where(imp.bool(), a1[:, None], a2[:, None])
    return x.mul_(factor) if owned else x * factor


def _chains(plan: Plan, keep: set[str]) -> dict[str, list[str]]:
    """head -> [head, ..., tail]: maximal runs of frame nodes linked one-to-one."""
    chains: dict[str, list[str]] = {}
    member: set[str] = set()
    for name in plan.order:
        if name in member or plan.kind(name) not in FRAME_KINDS:
            continue
        chain = [name]
        while True:
            last = chain[-1]
            nxt = plan.succ[last]
            if len(nxt) != 1 or last in keep:
                break
            b = nxt[0]
            if plan.kind(b) not in FRAME_KINDS or len(plan.pred[b]) != 1:
                break
            chain.append(b)
        member.update(chain)
        chains[name] = chain
    return chains


def _run_chain(plan: Plan, chain: list[str], x: torch.Tensor, chunk_frames: int, observer: Observer | None) -> torch.Tensor:
    n, T = x.shape[:2]
    per = max(1, chunk_frames // T)
    if all(getattr(plan.kernels[m], "whole_batch", False) for m in chain):
        per = n  # event-driven convs keep no large temporaries: one call, no per-chunk copy into the output
    out = None
    for i in range(0, n, per):
        z = x[i:i + per]
        nc = z.shape[0]
        for name in chain:
            if plan.delays(name):
                z = _shift(z)
            frames = z.reshape(nc * T, *z.shape[2:])
            if observer is not None and plan.kind(name) in SYNAPSE_KINDS:
                observer(name, frames, nc)
            frames = plan.kernels[name](frames)
            z = frames.reshape(nc, T, *frames.shape[1:])
        if out is None:
            if nc == n:
                return z
            out = torch.empty((n, T, *z.shape[2:]), dtype=z.dtype)
        out[i:i + nc] = z
    return out


def _run_neuron(plan: Plan, name: str, z: torch.Tensor, record_voltage: bool, owned: bool = False):
    """Run a neuron population over all T steps; z is [N, T, ...]. Step t works on the view z[:, t]
    (N contiguous blocks), state in place, spikes written straight into out[:, t]. When z is a float32
    temporary (``owned``), out is z itself: step t reads z[:, t] completely before its spikes overwrite it,
    so no second [N, T, ...] tensor is allocated (fresh pages of a large tensor cost page faults). Float
    LIF / IF / LI populations run all steps in one fused C++ call instead (:mod:`snnc.backends.cpu.lif_loop`,
    bit-identical; the torch loop when it is disabled or unavailable)."""
    neuron = make_neuron(plan.g.nodes[name], plan.dt, plan.threshold, plan.reset, plan.dtype, name)
    n, T = z.shape[:2]
    keep_v = record_voltage or not neuron.spiking
    out_dtype = torch.float32 if not plan.fixed else plan.dtype
    if not neuron.spiking:
        out = None
    elif owned and z.dtype == out_dtype and z.is_contiguous():
        out = z
    else:
        out = torch.empty(z.shape, dtype=out_dtype)
    volts = torch.empty(z.shape, dtype=torch.float64 if plan.fixed else plan.dtype) if keep_v else None
    with _elementwise_threads():
        if lif_loop.run_all_steps(neuron, z, out, volts):  # float LIF/IF/LI: one fused C++ pass, same bits
            return (out if neuron.spiking else volts.to(plan.dtype)), volts, neuron.spiking
        neuron.reset_state((n, *z.shape[2:]))
        for t in range(T):
            s = neuron.step(z[:, t])
            if out is not None:
                out[:, t] = s
            if volts is not None:
                volts[:, t] = neuron.v
    return (out if neuron.spiking else volts.to(plan.dtype)), volts, neuron.spiking


def run_layers(plan: Plan, x: torch.Tensor, record_voltage: bool, observer: Observer | None,
               chunk_frames: int) -> SimResult:
    """Feed-forward schedule (module docstring)."""
    T = x.shape[1]
    keep = {n for n in plan.order if plan.kind(n) in NEURON_KINDS}
    chains = _chains(plan, keep)
    in_chain = {m: head for head, c in chains.items() for m in c}
    values: dict[str, torch.Tensor] = {}
    uses = {n: len(plan.succ[n]) for n in plan.order}
    spikes, volts, output = {}, {}, None

    def summed(name: str) -> tuple[torch.Tensor, bool]:
        """The summed input of ``name`` and whether it is a temporary nobody else reads (owned)."""
        srcs = plan.pred[name]
        acc = values[srcs[0]]
        for s in srcs[1:]:
            acc = acc + values[s]
        owned = len(srcs) > 1
        for s in srcs:
            uses[s] -= 1
            if uses[s] == 0 and s not in keep:
                values.pop(s, None)
                owned = owned or plan.kind(s) != "Input"  # the input may share the caller's memory
        return acc, owned

    for name in plan.order:
        kind = plan.kind(name)
        if name in in_chain and in_chain[name] != name:
            continue
        if kind == "Input":
            values[name] = x
            continue
        z, owned = summed(name)
        if name in chains:
            chain = chains[name]
            values[chain[-1]] = _run_chain(plan, chain, z, chunk_frames, observer)
        elif kind == "Output":
            output = z
        elif kind in ATTENTION_KINDS:
            values[name] = _asa(plan, name, z, owned)
        elif kind == "TimeGain":
            values[name] = _timegain(plan, name, z, plan.source_steps(name, T), owned)
        elif kind in NEURON_KINDS:
            out, v, spiking = _run_neuron(plan, name, z, record_voltage, owned)
            values[name] = out
            if spiking:
                spikes[name] = out
            if v is not None and record_voltage:
                volts[name] = v
        else:  # pragma: no cover - check_supported refuses the rest
            raise SnncError(f"graph: node {name!r} ({kind}) cannot be executed")
    return _result(plan, spikes, output, volts, "layer")


def _np(t: torch.Tensor) -> np.ndarray:
    return t.to(torch.float32).numpy() if t.dtype != torch.float32 else t.numpy()


def _result(plan: Plan, spikes, output, volts, mode: str) -> SimResult:
    return SimResult(
        spikes={k: _np(v) for k, v in spikes.items()},
        output=_np(output),
        voltages={k: (v.numpy() if plan.fixed else _np(v)) for k, v in volts.items()},
        timing=plan.timing, numerics="fixed" if plan.fixed else "float",
        extras={"schedule": mode, "threshold": plan.threshold, "reset": plan.reset, "dt": plan.dt},
    )


def run(graph: nir.NIRGraph, x, *, timing: str = "snnc", record_voltage: bool = False, threshold: str | None = None,
        dt: float | None = None, observer: Observer | None = None, chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        channels_last: bool = False, conv: str = "dense") -> SimResult:
    """Simulate ``graph`` on x [N, T, *in_shape] (docs/design.md §5); deterministic.

    ``threshold`` (">" or ">=") overrides the graph's; ``dt`` overrides ``metadata["snnc"]["dt"]``.
    ``conv``: ``"dense"`` (default; float results bit-identical to the PyTorch model), ``"event"`` (event-driven
    convolution over the non-zero inputs; float sums in another order) or ``"auto"`` (event where the input
    is sparse, float graphs only); see :mod:`snnc.backends.cpu.ops`.
    """
    plan = Plan(graph, timing, threshold, dt, channels_last, conv)
    if len(plan.inputs) != 1 or len(plan.outputs) != 1:
        raise SnncError(f"graph: needs one Input and one Output, has {plan.inputs} and {plan.outputs}")
    xt = check_input(plan, x)
    with torch.no_grad():
        if plan.back:
            from snnc.backends.cpu.stepwise import run_steps

            return run_steps(plan, xt, record_voltage, observer)
        return run_layers(plan, xt, record_voltage, observer, chunk_frames)
