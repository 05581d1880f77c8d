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
