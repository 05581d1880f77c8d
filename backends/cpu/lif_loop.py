"""Fused neuron loop: all T steps of a float LIF / IF / LI population in one C++ call (``csrc/lif_loop.cpp``).

Per step and neuron the kernel does exactly the float operations of
:meth:`snnc.backends.cpu.neurons.FloatNeuron.step`, in the same order (v = β·v + g·x (+ leak), s = v ≥ θ or
v > θ, v = v_reset or v − θ where s), each one IEEE-rounded (built with ``-ffp-contract=off``, no fast math):
spikes and voltages are bit-identical to the torch loop (tested in tests/backends/cpu/test_cpu_lif_loop.py).
It replaces ~5 small torch ops per step over the whole population (and their dispatch overhead) by one pass
over z [N, T, M] whose state stays in L1, parallel over (sample, block of neurons) with ``at::parallel_for``
(elementwise: any thread count gives the same bits).

Not handled here (the caller keeps the torch loop): CubaLIF, Lava's fixed-point LoihiLIF, the step-by-step
schedule (recurrent graphs), parameters that do not broadcast to one sample's neuron shape.

The extension is built lazily with ``torch.utils.cpp_extension.load`` (gcc + ninja, no network) into torch's
extension cache the first time it is needed — never at import. If the build fails, :func:`extension` returns
None after ONE warning and the simulator runs the torch loop. :func:`disabled` (a context manager) forces the
torch loop, e.g. as the oracle of the tests.
"""

from __future__ import annotations

from pathlib import Path

import torch

from snnc.native import NativeKernel

KERNEL = NativeKernel("snnc_lif_loop", Path(__file__).resolve().parent / "csrc" / "lif_loop.cpp",
                      "fused neuron loop unavailable, using the torch loop")
#: the compiled extension module, or None (after one warning) if it cannot be built here
extension = KERNEL.extension
#: whether the simulator may use the fused loop (default True)
enabled = KERNEL.enabled
#: within this block the simulator runs the torch neuron loop (the oracle of the fused one)
disabled = KERNEL.disabled


def per_neuron(p: torch.Tensor | None, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor | None:
    """p as 1 (all equal) or M = prod(shape) contiguous entries in the neuron order of one sample; None when
    p broadcast against a sample would not give exactly ``shape`` (then the torch loop runs)."""
    if p is None:
        return None
    if p.dtype != dtype:
        return None
    if p.numel() == 1 and p.dim() <= len(shape):
        return p.reshape(1).contiguous()
    try:
        if torch.broadcast_shapes(p.shape, shape) != torch.Size(shape):
            return None
    except RuntimeError:
        return None
    return p.expand(shape).contiguous().reshape(-1)


def supports(neuron) -> bool:
    """Whether the fused loop implements this neuron exactly (float LIF, IF, LI)."""
    from snnc.backends.cpu.neurons import FloatNeuron

    return (isinstance(neuron, FloatNeuron) and neuron.kind in ("LIF", "IF", "LI")
            and neuron.dtype in (torch.float32, torch.float64)
            and (not neuron.spiking or neuron.reset in ("zero", "subtract"))
            and (not neuron.spiking or neuron.threshold in (">", ">="))
            and getattr(neuron, "fire", "after_integrate") == "after_integrate")


def run_all_steps(neuron, z: torch.Tensor, out: torch.Tensor | None, volts: torch.Tensor | None) -> bool:
    """Run ``neuron`` (fresh state v = 0) over all steps of z [N, T, ...]: spikes into out[:, t] (may be z
    itself), v after the reset into volts[:, t] (when given). Returns False, without touching anything, when
    the fused loop is disabled, unavailable or does not implement this case exactly (caller: torch loop)."""
    if not KERNEL.enabled() or not supports(neuron) or z.dim() < 2 or z.dtype != neuron.dtype:
        return False
    for o in (out, volts):
        if o is not None and (o.shape != z.shape or o.dtype != z.dtype or not o.is_contiguous()):
            return False
    shape = tuple(z.shape[2:])
    dtype = z.dtype
    if z.numel() == 0:
        return True  # nothing to compute or write
    one = torch.ones(1, dtype=dtype)
    beta = one if neuron.beta is None else per_neuron(neuron.beta, shape, dtype)
    gain = one if neuron.gain is None else per_neuron(neuron.gain, shape, dtype)
    leak = per_neuron(neuron.leak, shape, dtype)
    th = per_neuron(neuron.v_th, shape, dtype) if neuron.spiking else None
    vr = per_neuron(neuron.v_reset, shape, dtype) if neuron.spiking else None
    if beta is None or gain is None or (neuron.leak is not None and leak is None) or (
            neuron.spiking and (th is None or vr is None)):
        return False
    if out is not None and out.data_ptr() == z.data_ptr():
        if not z.is_contiguous():
            return False
        zc = z
    else:
        zc = z.contiguous()
    ext = extension()
    if ext is None:
        return False
    n, steps = z.shape[:2]
    m = zc.numel() // max(1, n * steps) if n * steps else 0
    empty = torch.empty(0, dtype=dtype)
    flat = lambda t: empty if t is None else t.view(n, steps, m)  # noqa: E731
    ext.lif_loop(zc.view(n, steps, m), flat(out if neuron.spiking else None), flat(volts), beta, gain,
                 empty if leak is None else leak, empty if th is None else th, empty if vr is None else vr,
                 neuron.threshold == ">=", neuron.reset == "subtract")
    return True
