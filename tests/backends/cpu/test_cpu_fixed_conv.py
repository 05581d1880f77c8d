"""The float32 twin of fixed-point convs (backends/cpu/fixed_conv.py) against the float64 conv it replaces.

Oracle: ``F.conv2d`` in float64 on the same integers (the fixed-point path before the twin, and the one it
falls back to), compared exactly, on random integer layers of Lava's weight range (dense and event-driven
float32 kernels, groups, strides, padding, biases), at the 2^24 bound, and on a whole compiled network run
with and without the twin and the fused fixed-point neuron loop.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.cpu import fixed_conv, loihi_loop, run
from snnc.backends.cpu.fixed_conv import FLOAT32_EXACT, Float32Twin
from snnc.compiler.fixed_point import W_MAX, W_MIN


@st.composite
def integer_layers(draw):
    groups = draw(st.integers(1, 2))
    cig, cog = draw(st.integers(1, 6)), draw(st.sampled_from([1, 8, 16]))
    k = draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, k - 2 * pad), 9))
    peak = draw(st.sampled_from([1, 3, 255]))  # spikes, event counts, large counts
    density = draw(st.sampled_from([0.05, 0.3, 1.0]))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    w = torch.randint(W_MIN, W_MAX + 1, (groups * cog, cig, k, k), generator=g).double()
    b = torch.randint(-2**20, 2**20, (groups * cog,), generator=g).double() if bias else None
    x = (torch.rand(3, groups * cig, h, h, generator=g) < density).double()
    x = x * torch.randint(-peak, peak + 1, x.shape, generator=g).double() if peak > 1 else x
    return w, b, x, ((stride, stride), (pad, pad), (1, 1), groups)  # as ops.conv_kernel passes them


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=integer_layers(), event=st.booleans())
def test_twin_equals_float64_conv(layer, event):
    w, b, x, args = layer
    twin = Float32Twin(w, b, *args, event_ok=event, max_density=float("inf"))
    want = F.conv2d(x, w, b, *args)
    got = twin(x)
    assert got is not None and got.dtype == torch.float64 and torch.equal(got, want)


def test_exact_up_to_the_bound_and_declines_beyond_it():
    w = torch.full((2, 64, 1, 1), 255.0, dtype=torch.float64)  # each output sums 64 inputs times 255
    below = 1028  # 255 · 64 · 1028 = 16 776 960 < 2^24
    for m, expect in ((below, True), (below + 1, False)):
        x = torch.full((1, 64, 2, 2), float(m), dtype=torch.float64)
        x[0, 0, 0, 0] = m - 1  # not all equal
        twin = Float32Twin(w, None, (1, 1), (0, 0), (1, 1), 1, event_ok=False, max_density=float("inf"))
        assert twin.exact_for(x) is expect and (255 * 64 * m < FLOAT32_EXACT) is expect
        got = twin(x)
        assert (got is not None) is expect
        if got is not None:
            assert torch.equal(got, F.conv2d(x, w))


def test_declines_non_integers():
    w = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    twin = Float32Twin(w, None, (1, 1), (0, 0), (1, 1), 1, event_ok=False, max_density=float("inf"))
    assert twin(torch.full((1, 1, 2, 2), 1.0 + 2**-30, dtype=torch.float64)) is None  # float32 would round it
    assert twin(torch.tensor([[[[float("nan")]]]], dtype=torch.float64)) is None
    assert not Float32Twin(w * 0.5, None, (1, 1), (0, 0), (1, 1), 1, event_ok=False, max_density=1.0).ok
    with fixed_conv.disabled():
        assert twin(torch.ones(1, 1, 2, 2, dtype=torch.float64)) is None


@pytest.mark.parametrize("timing", ["snnc", "lava"])
def test_compiled_network_equal_with_and_without_the_fast_paths(tiny_model, timing):
    """A Lava-compiled ASA LIF-SNN-3: every spike, voltage and output of every conv mode equals the float64,
    step-by-step run's."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.frontends import model_to_graph

    model, x = tiny_model("lif-snn-3", "asa")
    names = select_passes("lava", fixed_point=True)
    g, _ = run_pipeline(model_to_graph(model), names, pipeline_options("lava", names),
                        context=PipelineContext(run=cpu_run, calibration=x.numpy()))
    kw = {"timing": timing, "record_voltage": True, **({"readout": "pipeline"} if timing == "lava" else {})}
    with fixed_conv.disabled(), loihi_loop.disabled():
        want = run(g, x.numpy(), **kw)
    assert want.numerics == "fixed" and sum(s.sum() for s in want.spikes.values()) > 0
    for conv in ("dense", "auto", "event"):
        got = run(g, x.numpy(), conv=conv, **kw)
        assert all(np.array_equal(want.spikes[k], got.spikes[k]) for k in want.spikes)
        assert all(np.array_equal(want.voltages[k], got.voltages[k]) for k in want.voltages)
        assert np.array_equal(want.output, got.output)


@pytest.fixture(scope="module")
def casts():
    ext = fixed_conv.CASTS.extension()
    if ext is None:
        pytest.fail("the fixed-point cast kernel did not build (see the warning)")
    return ext


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 200_000), peak=st.sampled_from([1, 255, 2**24, 2**40]),
       spoil=st.sampled_from([None, 0.5, float("nan"), float("inf"), -float("inf"), 2**-30]),
       seed=st.integers(0, 2**31 - 1))
def test_one_pass_casts_equal_torchs(casts, n, peak, spoil, seed):
    """narrow: torch's float32 cast, and max|x| exactly, or -1 when one entry is not a finite integer (wherever it
    sits: n spans several of the kernel's parallel chunks); widen: torch's float64 cast and (min, max)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-peak, peak + 1, (n,), generator=g, dtype=torch.int64).double()
    if spoil is not None:
        x[int(torch.randint(0, n, (1,), generator=g))] += spoil
    x32 = torch.empty(n, dtype=torch.float32)
    got = casts.narrow(x, x32)
    ok = bool(torch.isfinite(x).all()) and bool(torch.equal(x, torch.trunc(x)))  # 2^-30 vanishes beside 2^40
    assert got == (float(x.abs().max()) if ok else -1.0)
    if ok:
        assert torch.equal(x32, x.to(torch.float32))
    y = torch.randn(n, generator=g) * peak
    y64 = torch.empty(n, dtype=torch.float64)
    lo, hi = casts.widen(y, y64)
    assert torch.equal(y64, y.to(torch.float64)) and (lo, hi) == (float(y.min()), float(y.max()))


def test_twin_gives_the_same_with_torchs_casts():
    g = torch.Generator().manual_seed(5)
    w = torch.randint(W_MIN, W_MAX + 1, (8, 4, 3, 3), generator=g).double()
    x = (torch.rand(6, 4, 7, 7, generator=g) < 0.3).double()
    twin = Float32Twin(w, None, (1, 1), (1, 1), (1, 1), 1, event_ok=False, max_density=float("inf"))
    got = twin.run(x)
    with fixed_conv.casts_disabled():
        want = twin.run(x)
    assert got is not None and want is not None
    assert torch.equal(got[0], want[0]) and got[1:] == want[1:] == (float(want[0].min()), float(want[0].max()))
    assert torch.equal(got[0], F.conv2d(x, w, None, (1, 1), (1, 1)))
    assert twin(torch.full((1, 4, 3, 3), float("inf"), dtype=torch.float64)) is None
