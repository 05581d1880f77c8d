"""The event-driven convolution (backends/cpu/csrc/event_conv.cpp) against ``F.conv2d``, and in the simulator.

Oracles: ``torch.nn.functional.conv2d`` — equal bit for bit when weights and inputs are integers (every partial
sum is an exact integer far below 2^24, so summation order cannot matter), ``allclose`` for float weights; the
dense simulator (``conv="dense"``) — equal spikes in every layer on a compiled demo graph whose weights are
rounded to multiples of 2^-12 (dyadic: again every partial sum is exact, so any indexing error in the kernel
changes spikes); an int64 NumPy convolution + ``conv_output_clamp`` for the fixed-point wrap.
The extension is compiled on first use (~35 s once per machine, cached in torch's extension directory).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import nir
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from snnc.backends.cpu import run
from snnc.backends.cpu import event_conv as ec
from snnc.errors import SnncError
from snnc.backends.cpu import run as cpu_run


@pytest.fixture(scope="module", autouse=True)
def _extension_built():
    """Every test here needs the real kernel: a silent dense fallback would make them vacuous."""
    assert ec.extension() is not None, "the event-conv extension must build on this machine (gcc, ninja)"


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    cig = draw(st.integers(1, 4))
    cog = draw(st.sampled_from([1, 2, 3, 8, 16, 24, 40]))  # multiples of 8 take the AVX2 blocks, others the generic
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    same = draw(st.booleans()) and stride == (1, 1)
    pad = "same" if same else (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    # the (padded) input must hold the dilated kernel at least once
    lo = [1 if same else max(1, d * (k - 1) + 1 - 2 * p) for d, k, p in zip(dil, (kh, kw), (0, 0) if same else pad)]
    h, w = draw(st.integers(lo[0], 11)), draw(st.integers(lo[1], 11))
    frames = draw(st.integers(1, 4))
    density = draw(st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.7, 1.0]))
    counts = draw(st.booleans())  # non-binary input: integer event counts 0..3
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    return groups, cig, cog, (kh, kw), stride, pad, dil, (h, w), frames, density, counts, dtype, bias, seed


def _tensors(case, integer_weights: bool):
    groups, cig, cog, k, stride, pad, dil, (h, w), frames, density, counts, dtype, bias, seed = case
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(frames, groups * cig, h, w, generator=g) < density).to(dtype)
    if counts:
        x = x * torch.randint(1, 4, x.shape, generator=g).to(dtype)
    shape = (groups * cog, cig, *k)
    if integer_weights:
        wt = torch.randint(-8, 9, shape, generator=g).to(dtype)
        b = torch.randint(-8, 9, (groups * cog,), generator=g).to(dtype) if bias else None
    else:
        wt = torch.randn(shape, generator=g, dtype=dtype)
        b = torch.randn(groups * cog, generator=g, dtype=dtype) if bias else None
    return x, wt, b


@settings(max_examples=120, deadline=None)
@given(case=conv_cases())
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's own note
def test_event_conv_equals_conv2d_exactly_for_integer_weights(case):
    groups, _, _, _, stride, pad, dil = case[:7]
    x, wt, b = _tensors(case, integer_weights=True)
    want = F.conv2d(x, wt, b, stride, pad, dil, groups)
    got = ec.EventConv2d(wt, b, stride, pad, dil, groups)(x)
    assert got is not None and got.shape == want.shape and got.dtype == want.dtype
    assert torch.equal(got, want)


@settings(max_examples=60, deadline=None)
@given(case=conv_cases())
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's own note
def test_event_conv_close_to_conv2d_for_float_weights(case):
    groups, _, _, _, stride, pad, dil = case[:7]
    x, wt, b = _tensors(case, integer_weights=False)
    want = F.conv2d(x, wt, b, stride, pad, dil, groups)
    got = ec.EventConv2d(wt, b, stride, pad, dil, groups)(x)
    tol = 1e-5 if x.dtype == torch.float32 else 1e-12
    torch.testing.assert_close(got, want, rtol=tol, atol=tol * (1 + float(x.abs().sum(dim=(1, 2, 3)).max())))


def test_event_conv_is_deterministic_across_runs_and_thread_counts():
    g = torch.Generator().manual_seed(3)
    x = (torch.rand(12, 32, 16, 16, generator=g) < 0.15).float()
    wt, b = torch.randn(64, 32, 4, 4, generator=g), torch.randn(64, generator=g)
    conv = ec.EventConv2d(wt, b, (2, 2), (1, 1), (1, 1), 1)
    before = torch.get_num_threads()
    try:
        outs = []
        for threads in (1, 2, 2, 1):
            torch.set_num_threads(threads)
            outs.append(conv(x))
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(outs[0], o) for o in outs[1:])
    torch.testing.assert_close(outs[0], F.conv2d(x, wt, b, 2, 1), rtol=1e-5, atol=1e-4)


def test_density_limit_returns_none_above_it():
    x = torch.zeros(2, 4, 5, 5)
    x[0, 1, 2, 3] = x[1, 0, 0, 0] = x[1, 3, 4, 4] = 1.0  # 3 of 200 entries active
    conv = ec.EventConv2d(torch.ones(2, 4, 3, 3), None, (1, 1), (1, 1), (1, 1), 1)
    assert conv(x, 3 / 200) is not None
    assert conv(x, 2.9 / 200) is None
    assert torch.equal(conv(x, 3 / 200), F.conv2d(x, torch.ones(2, 4, 3, 3), None, 1, 1))


def _dyadic_compiled_demo(tiny_model):
    """A compiled (cpu pipeline) vanilla LIF-SNN-3 demo whose conv/affine weights and biases are multiples of
    2^-12, with the bound that makes every partial sum exact in float32 checked."""
    from snnc.compiler.ir.graph_utils import copy_graph, node_kind
    from snnc.compiler.pipeline import run_pipeline, select_passes
    from snnc.frontends import model_to_graph

    model, x = tiny_model("lif-snn-3", "none", n=3)
    x = x * torch.randint(1, 3, x.shape, generator=torch.Generator().manual_seed(1))  # event counts 0..2
    g, _ = run_pipeline(model_to_graph(model), select_passes("cpu"))
    g = copy_graph(g)
    convs = 0
    for node in g.nodes.values():
        if node_kind(node) in ("Conv2d", "Affine"):
            node.weight = (np.round(np.asarray(node.weight, np.float64) * 4096) / 4096).astype(np.float32)
            node.bias = (np.round(np.asarray(node.bias, np.float64) * 4096) / 4096).astype(np.float32)
            if node_kind(node) == "Conv2d":
                convs += 1
                fan = np.abs(np.asarray(node.weight)).reshape(len(node.bias), -1).sum(1) + np.abs(node.bias)
                assert float(fan.max()) * 2 < 2 ** (24 - 12), "partial sums must stay exact in float32"
    assert convs == 3
    return g, x.numpy()


def test_simulator_event_conv_spikes_equal_dense_on_exact_weights(tiny_model):
    g, x = _dyadic_compiled_demo(tiny_model)
    dense = run(g, x)
    assert all(s.any() for s in dense.spikes.values()), "every layer must fire, or equality is vacuous"
    for mode in ("event", "auto"):
        other = run(g, x, conv=mode)
        for k, s in dense.spikes.items():
            assert np.array_equal(other.spikes[k], s), (mode, k)
        assert np.array_equal(other.output, dense.output)
    chunked = run(g, x, conv="event", chunk_frames=1)
    assert all(np.array_equal(chunked.spikes[k], s) for k, s in dense.spikes.items())


def test_simulator_event_conv_float_is_deterministic_and_close(tiny_model):
    from snnc.compiler.pipeline import run_pipeline, select_passes
    from snnc.frontends import model_to_graph

    model, x = tiny_model("lif-snn-3", "none", n=3)
    g, _ = run_pipeline(model_to_graph(model), select_passes("cpu"))
    a = run(g, x.numpy(), conv="event", record_voltage=True)
    b = run(g, x.numpy(), conv="event", record_voltage=True, chunk_frames=5)
    for k in a.spikes:
        assert np.array_equal(a.spikes[k], b.spikes[k]) and np.array_equal(a.voltages[k], b.voltages[k]), k
    dense = run(g, x.numpy(), record_voltage=True)
    first = next(iter(dense.voltages))  # first spiking layer: same inputs, so only conv rounding differs
    np.testing.assert_allclose(a.voltages[first], dense.voltages[first], rtol=0, atol=1e-4)


def _fixed_conv_graph(w: np.ndarray, pad: int):
    o, c, k, _ = w.shape
    h = wd = 6
    nodes = {"input": nir.Input(input_type=np.array([c, h, wd])),
             "conv": nir.Conv2d(input_shape=(h, wd), weight=w.astype(np.float64), stride=1, padding=pad,
                                dilation=1, groups=1, bias=np.zeros(o)),
             "output": nir.Output(output_type=np.array([o, h + 2 * pad - k + 1, wd + 2 * pad - k + 1]))}
    from snnc.compiler.ir.graph_utils import make_graph

    return make_graph(nodes, [("input", "conv"), ("conv", "output")], {"snnc": {"numerics": "fixed", "T": 3}})


def test_fixed_point_event_conv_wraps_like_dense():
    """Fixed point with conv="event": float64 integer sums (exact), then the 24-bit wrap, = int64 oracle."""
    from snnc.compiler import fixed_point as fp

    rng = np.random.default_rng(0)
    w = 2 * rng.integers(-128, 128, size=(3, 8, 5, 5))
    w[0] = 254
    w[1] = -256
    x = (rng.random((2, 3, 8, 6, 6)) < 0.9) * rng.integers(100, 256, size=(2, 3, 8, 6, 6))  # sparse-ish, large counts
    xf = x.reshape(-1, 8, 6, 6).astype(np.int64)
    xp = np.pad(xf, ((0, 0), (0, 0), (2, 2), (2, 2)))
    raw = np.einsum("fcijkl,ockl->foij", np.lib.stride_tricks.sliding_window_view(xp, (5, 5), axis=(2, 3)), w)
    assert np.any(raw > 2**23 - 1) and np.any(raw < -2**23), "the case must exercise the wrap both ways"
    want = fp.conv_output_clamp(raw).reshape(2, 3, 3, 6, 6)
    got = run(_fixed_conv_graph(w, 2), x.astype(np.float32), conv="event").output
    np.testing.assert_array_equal(got.astype(np.int64), want)


def test_fixed_point_pipeline_event_equals_dense(tiny_model):
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.frontends import model_to_graph

    model, x = tiny_model("lif-snn-3", "asa")
    names = select_passes("lava", fixed_point=True)
    g, _ = run_pipeline(model_to_graph(model), names, pipeline_options("lava", names),
                        context=PipelineContext(run=cpu_run, calibration=x.numpy()))
    dense = run(g, x.numpy(), timing="lava")
    event = run(g, x.numpy(), timing="lava", conv="event")
    assert dense.numerics == "fixed" and sum(s.sum() for s in dense.spikes.values()) > 0
    assert all(np.array_equal(dense.spikes[k], event.spikes[k]) for k in dense.spikes)


def test_conv_option_is_validated(tiny_model):
    from snnc.frontends import model_to_graph

    model, x = tiny_model("lif-snn-3", "none", n=1)
    with pytest.raises(SnncError, match="conv: must be one of"):
        run(model_to_graph(model), x.numpy(), conv="sparse")


def test_import_does_not_build_and_failed_build_falls_back_once(tmp_path):
    """``import snnc`` (and the simulator) never builds; a build that fails warns once, then runs dense."""
    code = f"""
import sys, warnings
import snnc, snnc.backends.cpu
from snnc.backends.cpu import event_conv as ec
assert ec.KERNEL.state["ext"] is None and not ec.KERNEL.state["failed"]
assert not any("event_conv_" in m for m in sys.modules)
ec.KERNEL.source = ec.KERNEL.source.with_name("missing.cpp")
ec.KERNEL.stem = "snnc_event_conv_missing_test"
import torch, torch.nn.functional as F
x = (torch.rand(2, 3, 5, 5) < 0.3).float(); w = torch.randn(4, 3, 3, 3)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    a = ec.event_conv2d(x, w, None, 1, 1)
    b = ec.event_conv2d(x, w, None, 1, 1)
assert sum("event-driven convolution unavailable" in str(c.message) for c in caught) == 1, caught
assert torch.equal(a, F.conv2d(x, w, None, 1, 1)) and torch.equal(b, a)
print("ok")
"""
    env = {"TORCH_EXTENSIONS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_auto_mode_uses_event_kernel_only_below_the_density_limit():
    """``conv="auto"``: a sparse chunk gives exactly the event kernel's output, a dense one exactly F.conv2d's."""
    from snnc.backends.cpu.ops import AUTO_MAX_DENSITY, AUTO_MIN_FAN_IN, conv_kernel

    g = torch.Generator().manual_seed(5)
    wt, b = torch.randn(16, 8, 3, 3, generator=g), torch.randn(16, generator=g)
    node = nir.Conv2d(input_shape=(9, 9), weight=wt.numpy(), stride=2, padding=1, dilation=1, groups=1, bias=b.numpy())
    assert 8 * 3 * 3 >= AUTO_MIN_FAN_IN  # large enough fan-in for the event kernel
    auto = conv_kernel(node, torch.float32, False, conv="auto")
    event = ec.EventConv2d(wt, b, (2, 2), (1, 1), (1, 1), 1)
    sparse = (torch.rand(6, 8, 9, 9, generator=g) < AUTO_MAX_DENSITY / 2).float()
    dense = (torch.rand(6, 8, 9, 9, generator=g) < min(1.0, AUTO_MAX_DENSITY * 2.5)).float()
    assert torch.equal(auto(sparse), event(sparse))
    assert torch.equal(auto(dense), F.conv2d(dense, wt, b, 2, 1))
    fixed = conv_kernel(node, torch.float64, True, conv="auto")  # fixed point, non-integer weights: float64
    assert torch.equal(fixed(sparse.double()), F.conv2d(sparse.double(), wt.double(), b.double(), 2, 1))
    small = nir.Conv2d(input_shape=(9, 9), weight=wt[:, :1, :2, :2].numpy(), stride=2, padding=1, dilation=1,
                       groups=1, bias=b.numpy())  # fan-in 4 < AUTO_MIN_FAN_IN: dense
    assert torch.equal(conv_kernel(small, torch.float32, False, conv="auto")(sparse[:, :1]),
                       F.conv2d(sparse[:, :1], wt[:, :1, :2, :2], b, 2, 1))
