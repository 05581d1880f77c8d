"""The fused fixed-point LIF loop (backends/cpu/csrc/loihi_loop.cpp) against the step loop, integer for integer.

Oracle: :class:`LoihiNeuron` stepping :func:`snnc.compiler.fixed_point.lif_step` (which
tests/backends/cpu/test_cpu_fixed_point.py checks against Lava's own bit-accurate LIF). Inputs are drawn to
reach every branch of the update: currents up to ±2^40 (the int32 wraps of u and v, the 24-bit wrap of u,
the clip of v), half-integers (round half to even), per-neuron and scalar biases with negative exponents.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.cpu import loihi_loop
from snnc.backends.cpu.neurons import LoihiNeuron
from snnc.compiler.ir import nodes as ext


@pytest.fixture(scope="module", autouse=True)
def _built():
    if loihi_loop.extension() is None:  # pragma: no cover - a machine without a compiler
        pytest.skip("fused fixed-point loop could not be built here")


def _step_loop(neuron: LoihiNeuron, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The oracle: one ``LoihiNeuron.step`` per t (the simulator's loop without the fused kernel)."""
    neuron.reset_state((z.shape[0], *z.shape[2:]))
    spikes, volts = torch.empty_like(z), torch.empty_like(z)
    for t in range(z.shape[1]):
        spikes[:, t] = neuron.step(z[:, t])
        volts[:, t] = neuron.v
    return spikes, volts


def _population(seed: int, shape: tuple[int, ...], per_neuron: bool, scale: float) -> tuple[ext.LoihiLIF, torch.Tensor]:
    rng = np.random.default_rng(seed)
    bshape = shape if per_neuron else (1,)
    node = ext.LoihiLIF(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)), vth=int(rng.integers(0, 131072)),
                        bias_mant=rng.integers(-4096, 4096, bshape), bias_exp=rng.integers(-8, 12, bshape))
    n, steps = int(rng.integers(1, 4)), int(rng.integers(1, 40))
    z = rng.normal(0.0, scale, (n, steps, *shape))
    z = np.where(rng.random(z.shape) < 0.2, np.floor(z) + 0.5, np.rint(z))  # half-integers: ties to even
    return node, torch.from_numpy(z)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), per_neuron=st.booleans(),
       shape=st.sampled_from([(1,), (7,), (3, 5, 5), (600,), (2, 3, 130)]),
       scale=st.sampled_from([3.0, 1e3, 2e5, 1e9, 1e12]))
def test_fused_loop_equals_step_loop(seed, per_neuron, shape, scale):
    node, z = _population(seed, shape, per_neuron, scale)
    want_s, want_v = _step_loop(LoihiNeuron(node), z)
    out, volts = torch.empty_like(z), torch.empty_like(z)
    assert loihi_loop.run_all_steps(LoihiNeuron(node), z, out, volts)
    assert torch.equal(out, want_s) and torch.equal(volts, want_v)


def _bits(t: torch.Tensor) -> bytes:
    return t.numpy().tobytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), per_neuron=st.booleans(), n_blocks=st.integers(1, 3),
       scale=st.sampled_from([3.0, 300.0, 3e4, 2.6e5]))
def test_double_blocks_equal_the_step_loop_bit_for_bit(seed, per_neuron, n_blocks, scale):
    """Currents up to the 2^18 bound of the double path (and past it at 2.6e5: those blocks fall back), whole
    blocks of 512 neurons: the double path really runs, and spikes and voltages equal the step loop's to the
    bit (no -0.0 where the integers give 0)."""
    node, z = _population(seed, (n_blocks * 512,), per_neuron, scale)
    want_s, want_v = _step_loop(LoihiNeuron(node), z)
    out, volts = torch.empty_like(z), torch.empty_like(z)
    before = loihi_loop.counts["double_blocks"]
    assert loihi_loop.run_all_steps(LoihiNeuron(node), z, out, volts)
    ran = loihi_loop.counts["double_blocks"] - before
    small = (torch.round(z).abs() <= 2**18).reshape(z.shape[0], z.shape[1], n_blocks, 512).all(dim=3).all(dim=1)
    assert ran == int(small.sum())  # the bias bound always holds here (|bias| <= 4095 * 2^11)
    assert _bits(out) == _bits(want_s) and _bits(volts) == _bits(want_v)


def test_in_place_output_and_no_volts():
    node, z = _population(5, (3, 4, 4), True, 2e5)
    want_s, _ = _step_loop(LoihiNeuron(node), z)
    zc = z.clone()
    assert loihi_loop.run_all_steps(LoihiNeuron(node), zc, zc, None)  # spikes overwrite their own input
    assert torch.equal(zc, want_s)


def test_declines_what_it_does_not_implement():
    node, z = _population(1, (4,), False, 10.0)
    neuron = LoihiNeuron(node)
    assert not loihi_loop.run_all_steps(neuron, z.float(), None, None)  # float32 input: the step loop
    assert not loihi_loop.run_all_steps(neuron, torch.zeros(3, 5, 4, dtype=torch.float64).transpose(0, 1), None, None)
    with loihi_loop.disabled():
        assert not loihi_loop.run_all_steps(neuron, z, None, None)
    wide = ext.LoihiLIF(du=1, dv=1, vth=1, bias_mant=np.zeros((5,), np.int64), bias_exp=np.zeros((5,), np.int64))
    assert not loihi_loop.run_all_steps(LoihiNeuron(wide), z, None, None)  # bias does not fit the shape (4,)
