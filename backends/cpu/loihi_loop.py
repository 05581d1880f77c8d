"""Fused fixed-point neuron loop: all T steps of a Lava ``LoihiLIF`` population in one C++ call
(``csrc/loihi_loop.cpp``).

The spec is :func:`snnc.compiler.fixed_point.lif_step`, which :class:`snnc.backends.cpu.neurons.LoihiNeuron`
calls once per step on NumPy int64 arrays (about ten array passes per step). The kernel does the same integer
operations in the same order per neuron, so spikes and voltages are equal, not close
(``tests/backends/cpu/test_cpu_loihi_loop.py`` compares them on random populations that reach the wraps and
the clip); blocks whose inputs are small enough that nothing can wrap run the same integers in AVX2 doubles. The bias is computed once here by :func:`~snnc.compiler.fixed_point.effective_bias`, the one
definition. Built lazily (:class:`snnc.native.NativeKernel`); when the build fails, or within
:func:`disabled`, the simulator runs the step loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from snnc.compiler.fixed_point import effective_bias
from snnc.backends.cpu.lif_loop import per_neuron
from snnc.native import NativeKernel

KERNEL = NativeKernel("snnc_loihi_loop", Path(__file__).resolve().parent / "csrc" / "loihi_loop.cpp",
                      "fused fixed-point LIF loop unavailable, using the step loop")
#: the compiled kernel module, or None (after one warning) if it cannot be built here
extension = KERNEL.extension
#: within this block the simulator runs :class:`LoihiNeuron` step by step (the oracle of the fused loop)
disabled = KERNEL.disabled
#: how many (sample, block of 512 neurons) the kernel ran in AVX2 doubles, where no wrap can happen (csrc header)
counts = {"double_blocks": 0}


def _bias(neuron, shape: tuple[int, ...]) -> torch.Tensor | None:
    """effective_bias as 1 or prod(shape) int64 entries in one sample's neuron order; None if it does not
    broadcast to exactly ``shape``."""
    b = np.asarray(effective_bias(neuron.bias_mant, neuron.bias_exp), np.int64)
    return per_neuron(torch.from_numpy(b), shape, torch.int64)


def run_all_steps(neuron, z: torch.Tensor, out: torch.Tensor | None, volts: torch.Tensor | None) -> bool:
    """Run the LoihiLIF ``neuron`` (fresh state) over all steps of z [N, T, ...] (float64, integer-valued
    after rounding): spikes into out[:, t] (may be z itself), v after the reset into volts[:, t]. Returns
    False without touching anything when the fused loop is disabled, unavailable or not applicable."""
    if not KERNEL.enabled() or getattr(neuron, "kind", None) != "LoihiLIF" or z.dim() < 2:
        return False
    if z.dtype != torch.float64 or not z.is_contiguous():
        return False
    for o in (out, volts):
        if o is not None and (o.shape != z.shape or o.dtype != torch.float64 or not o.is_contiguous()):
            return False
    bias = _bias(neuron, tuple(z.shape[2:]))
    if bias is None:
        return False
    if z.numel() == 0:
        return True
    ext = extension()
    if ext is None:
        return False
    n, steps = z.shape[:2]
    m = z.numel() // (n * steps)
    empty = torch.empty(0, dtype=torch.float64)
    counts["double_blocks"] += ext.loihi_loop(z.view(n, steps, m), empty if out is None else out.view(n, steps, m),
                                              empty if volts is None else volts.view(n, steps, m), bias, neuron.du,
                                              neuron.dv, neuron.vth)
    return True
