"""The fused C++ neuron loop (backends/cpu/csrc/lif_loop.cpp) against the torch loop, bit for bit.

Oracle: :meth:`FloatNeuron.step` called step by step (the simulator's torch path), on the same neuron object.
Spikes and voltages are compared as raw bits (so −0 vs +0 would fail too), for float32 and float64, both
thresholds, both resets, scalar and per-neuron parameters, and inputs built to hit the threshold exactly.
"""

from __future__ import annotations

import subprocess
import sys

import nir
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.cpu import lif_loop, run
from snnc.backends.cpu.neurons import FloatNeuron
from snnc.frontends import model_to_graph


@pytest.fixture(scope="module", autouse=True)
def _built():
    if lif_loop.extension() is None:  # pragma: no cover - a machine without a compiler
        pytest.skip("fused neuron loop could not be built here")


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.view(torch.int32 if t.dtype == torch.float32 else torch.int64)


def _torch_loop(neuron: FloatNeuron, z: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
    """The oracle: the simulator's torch loop (one ``step`` per t), spikes and v after the reset."""
    neuron.reset_state((z.shape[0], *z.shape[2:]))
    spikes = torch.empty_like(z) if neuron.spiking else None
    volts = torch.empty_like(z)
    for t in range(z.shape[1]):
        s = neuron.step(z[:, t])
        if spikes is not None:
            spikes[:, t] = s
        volts[:, t] = neuron.v
    return spikes, volts


def _fused(neuron: FloatNeuron, z: torch.Tensor, in_place: bool = False):
    z = z.clone()
    spikes = (z if in_place else torch.full_like(z, 7.0)) if neuron.spiking else None
    volts = torch.full_like(z, 7.0)
    assert lif_loop.run_all_steps(neuron, z, spikes, volts)
    return spikes, volts


def _assert_same(neuron, z, in_place=False):
    want_s, want_v = _torch_loop(neuron, z)
    got_s, got_v = _fused(neuron, z, in_place)
    if neuron.spiking:
        assert torch.equal(_bits(got_s), _bits(want_s))
    assert torch.equal(_bits(got_v), _bits(want_v))
    return want_s


# values whose sums and products with the dyadic parameters below are exact: v lands on θ exactly
DYADIC = [0.0, -0.0, 0.25, 0.5, 0.75, 1.0, 1.5, -0.5, 2.0]


@st.composite
def cases(draw):
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    n, steps = draw(st.integers(1, 3)), draw(st.integers(1, 9))
    kind = draw(st.sampled_from(["LIF-snnc", "LIF", "IF", "LI"]))
    ties = draw(st.booleans())
    per_neuron = draw(st.booleans()) and kind != "LIF-snnc"
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)

    def value(choices, low, high):  # one value or one per neuron (or per channel: broadcast (C, 1, ...))
        if not per_neuron:
            return float(rng.choice(choices)) if ties else float(rng.uniform(low, high))
        pshape = shape if draw(st.booleans()) else (shape[0],) + (1,) * (len(shape) - 1)
        return rng.choice(choices, pshape) if ties else rng.uniform(low, high, pshape)

    tau = np.asarray(value([2e-3, 4e-3, 1e-3], 1.2e-3, 2e-2)) * np.ones(shape)
    r = np.asarray(value([1.0, 2.0, 0.5], 0.3, 3.0)) * np.ones(shape)
    leak = np.asarray(value([0.0, 0.5, -0.25], -0.5, 0.5)) * np.ones(shape) if draw(st.booleans()) else np.zeros(shape)
    th = np.asarray(value([1.0, 0.5, 0.25], 0.1, 2.0)) * np.ones(shape)
    v_reset = np.asarray(value([0.0], 0.0, 0.0)) * np.ones(shape) if draw(st.booleans()) else (
        np.asarray(value([0.0, -0.5, 0.25], -0.5, 0.3)) * np.ones(shape))
    if kind == "LIF-snnc":  # the snnc β/gain form of the models (metadata, float32 values)
        beta = float(rng.choice([0.5, 0.25, 0.75])) if ties else float(rng.uniform(0.05, 1.0))
        gain = draw(st.sampled_from([1.0, 0.5, float(np.float32(rng.uniform(0.1, 2.0)))]))
        node = nir.LIF(tau=tau, r=r, v_leak=np.zeros(shape), v_threshold=th, v_reset=v_reset,
                       metadata={"snnc": {"beta": beta, "gain": gain}})
    elif kind == "LIF":
        node = nir.LIF(tau=tau, r=r, v_leak=leak, v_threshold=th, v_reset=v_reset)
    elif kind == "IF":
        node = nir.IF(r=r, v_threshold=th, v_reset=v_reset)
    else:
        node = nir.LI(tau=tau, r=r, v_leak=leak)
    threshold = draw(st.sampled_from([">", ">="]))
    reset = draw(st.sampled_from(["zero", "subtract"]))
    if ties:
        x = torch.as_tensor(rng.choice(DYADIC + [float(np.min(th)), float(np.max(th))], (n, steps, *shape)))
    else:
        x = torch.as_tensor(rng.normal(0.4, 1.0, (n, steps, *shape)))
    return FloatNeuron(node, 1e-3, threshold, reset, dtype, "p"), x.to(dtype), draw(st.booleans())


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(cases())
def test_fused_loop_is_bit_identical_to_the_torch_loop(case):
    neuron, z, in_place = case
    _assert_same(neuron, z, in_place)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("threshold", [">", ">="])
def test_exact_ties_at_the_threshold_follow_the_comparison(dtype, threshold):
    """v == θ exactly (β = 0.5, g = 1, dyadic inputs): ">=" fires there, ">" does not; both equal the oracle."""
    shape = (3, 4, 4)
    node = nir.LIF(tau=np.full(shape, 2e-3), r=np.ones(shape), v_leak=np.zeros(shape), v_threshold=np.ones(shape),
                   metadata={"snnc": {"beta": 0.5, "gain": 1.0}})
    z = torch.zeros((2, 5, *shape), dtype=dtype)
    z[:, 0] = 1.0            # v = 1 = θ at t = 0
    z[:, 2] = 0.5            # after no spike (">"): v = 0.5 + 0.5 = 1 = θ again at t = 2 (">" case only)
    neuron = FloatNeuron(node, 1e-3, threshold, "zero", dtype)
    spikes = _assert_same(neuron, z)
    assert bool(spikes[:, 0].all()) == (threshold == ">=")


def test_result_does_not_depend_on_the_thread_count():
    shape = (8, 16, 16)
    node = nir.LIF(tau=np.full(shape, 2e-3), r=np.ones(shape), v_leak=np.zeros(shape), v_threshold=np.ones(shape),
                   metadata={"snnc": {"beta": 0.9, "gain": 0.7}})
    z = torch.randn((3, 7, *shape), generator=torch.Generator().manual_seed(3)) + 0.3
    neuron = FloatNeuron(node, 1e-3, ">", "zero", torch.float32)
    before = torch.get_num_threads()
    try:
        outs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            outs.append(_fused(neuron, z))
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(_bits(a), _bits(b)) for a, b in zip(*outs))
    assert torch.equal(_bits(outs[0][0]), _bits(_torch_loop(neuron, z)[0]))


def test_unsupported_neurons_are_left_to_the_torch_loop():
    shape = (2, 3)
    cuba = nir.CubaLIF(tau_syn=np.full(shape, 2e-3), tau_mem=np.full(shape, 4e-3), r=np.ones(shape),
                       v_leak=np.zeros(shape), v_threshold=np.ones(shape), w_in=np.ones(shape))
    z = torch.ones((1, 2, *shape))
    neuron = FloatNeuron(cuba, 1e-3, ">", "zero", torch.float32)
    out = torch.full_like(z, 7.0)
    assert not lif_loop.run_all_steps(neuron, z, out, None) and bool((out == 7.0).all())
    lif = FloatNeuron(nir.LIF(tau=np.full(shape, 2e-3), r=np.ones(shape), v_leak=np.zeros(shape),
                              v_threshold=np.ones(shape)), 1e-3, ">", "zero", torch.float32)
    assert not lif_loop.run_all_steps(lif, z.double(), None, None)  # dtype other than the neuron's
    with lif_loop.disabled():
        assert not lif_loop.run_all_steps(lif, z, out, None)
    assert lif_loop.run_all_steps(lif, z, out, None)


@pytest.mark.parametrize("attention", ["none", "asa"])
def test_demo_graph_spikes_and_voltages_equal_with_kernel_on_and_off(attention):
    """The demo LIF-SNN-3 (rescaled to fire): every layer's spikes and voltages, fused loop vs torch loop, and
    the PyTorch model's spikes."""
    from snnc.models.activity import scale_to_rate
    from snnc.models import build_model
    from snnc.models.registry import demo_config

    torch.manual_seed(0)
    cfg = demo_config(attention)
    model = build_model(cfg).eval()
    x = (torch.rand(2, cfg["T"], 2, *cfg["input_size"], generator=torch.Generator().manual_seed(1)) < 0.2).float()
    scale_to_rate(model, x)
    graph = model_to_graph(model)
    fused = run(graph, x.numpy(), record_voltage=True)
    with lif_loop.disabled():
        plain = run(graph, x.numpy(), record_voltage=True)
    assert set(fused.spikes) == set(plain.spikes) and len(fused.spikes) >= 4
    fired = 0
    for k in plain.spikes:
        assert np.array_equal(fused.spikes[k].view(np.int32), plain.spikes[k].view(np.int32)), k
        assert np.array_equal(fused.voltages[k].view(np.int32), plain.voltages[k].view(np.int32)), k
        fired += bool(plain.spikes[k].any())
    assert fired == len(plain.spikes)  # equality is not vacuous
    assert np.array_equal(fused.output, plain.output)
    with torch.no_grad():
        rec = model.forward_record(x)
    for k, v in model.spiking_layers(rec).items():
        assert np.array_equal(fused.spikes[f"{k}_lif"], v.numpy()), k


def test_import_does_not_build_and_failed_build_falls_back_once(tmp_path):
    """``import snnc`` never builds; a build that fails warns once and the simulator runs the torch loop."""
    code = """
import sys, warnings
import numpy as np, nir, torch
import snnc, snnc.backends.cpu
from snnc.backends.cpu import lif_loop, run
assert lif_loop.KERNEL.state["ext"] is None and not lif_loop.KERNEL.state["failed"]
assert not any("lif_loop_" in m for m in sys.modules)
lif_loop.KERNEL.source = lif_loop.KERNEL.source.with_name("missing.cpp")
lif_loop.KERNEL.stem = "snnc_lif_loop_missing_test"
shape = (3, 4)
g = nir.NIRGraph(nodes={"input": nir.Input(np.array(shape)),
                        "lif": nir.LIF(tau=np.full(shape, 2e-3), r=np.ones(shape), v_leak=np.zeros(shape),
                                       v_threshold=np.full(shape, 0.5)),
                        "output": nir.Output(np.array(shape))},
                 edges=[("input", "lif"), ("lif", "output")])
x = np.random.default_rng(0).uniform(0, 1, (2, 5, *shape)).astype(np.float32)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    a = run(g, x)
    b = run(g, x)
assert sum("fused neuron loop unavailable" in str(c.message) for c in caught) == 1, [str(c.message) for c in caught]
with lif_loop.disabled():
    c = run(g, x)
assert np.array_equal(a.spikes["lif"], c.spikes["lif"]) and np.array_equal(b.spikes["lif"], c.spikes["lif"])
assert a.spikes["lif"].any()
print("ok")
"""
    env = {"TORCH_EXTENSIONS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
