"""Gains inside the reference simulator: TimeGain (float and fixed point) and window attention (ASA,
MultiDimAttention), computed exactly as the models and :mod:`snnc.compiler.fixed_point` define them."""

from __future__ import annotations

import contextlib
import os

import numpy as np
import torch

from snnc.backends.cpu.plan import Plan
from snnc.compiler.fixed_point import time_gain_apply, time_gain_float
from snnc.errors import SnncError


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
    """``x * asa_factor(x, ...)`` with the same float32 values. asa_factor's last line, I·A1 + (1 − I)·A2 with
    I ∈ {0, 1} and A1, A2 ∈ (0, 1), equals ``where(I, A1, A2)`` exactly (1·a + 0·b = a, 0·a + 1·b = b in IEEE
    float). With the fused kernels (:mod:`snnc.models.fused_asa`: A1, A2 from one masked-max pass and asa_factor's
    own means; the product in one pass, into x when x is a temporary, ``owned``), else asa_factor's steps
    (:func:`snnc.models.asa.asa_parts`) and one ``where``. Equality with the model is tested
    (tests/backends/cpu/test_cpu_exact_models.py) and checked at paper size in bench/bench_cpu.py."""
    from snnc.compiler.window_attention import asa_arguments
    from snnc.models import fused_asa
    from snnc.models.asa import _t, asa_masks, asa_parts

    (alpha, gamma, fc1, fc2, conv1, conv2, lam), options = asa_arguments(node)
    if fused_asa.applies(x):
        imp = asa_masks(x, alpha, gamma, fc1, fc2, lam, **options)
        a1, a2 = fused_asa.attention_maps(x, imp, _t(conv1, x), _t(conv2, x), lam)
        return fused_asa.apply_factor(x, imp, a1, a2, inplace=owned and x.is_contiguous())
    imp, a1, a2 = asa_parts(x, alpha, gamma, fc1, fc2, conv1, conv2, lam, **options)
    factor = torch.where(imp.bool(), a1[:, None], a2[:, None])
    return x.mul_(factor) if owned else x * factor
