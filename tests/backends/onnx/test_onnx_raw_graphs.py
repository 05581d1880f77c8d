"""The ONNX backend on *uncompiled* graphs (straight from a checkpoint: BatchNorm, AvgPool2d, MaxPool2d, PLIF,
residual sums) equals the CPU reference simulator bit for bit (spikes, output and float voltages), and the
fixed-point Conv wraps modulo 2^24 like ``fixed_point.conv_output_clamp`` (the CPU simulator's definition).
"""

from __future__ import annotations

import numpy as np
import nir
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.backends import cpu
from snnc.backends import onnx as onnx_backend
from snnc.compiler.ir import BatchNorm, LoihiLIF, make_graph
from snnc.errors import SnncError


def _same(a, b, voltages: bool = True) -> None:
    """Spikes and output identical; voltages identical, or (``voltages=False``: float convolutions sum in
    another order in ONNX Runtime) equal to float32 rounding."""
    assert sorted(a.spikes) == sorted(b.spikes)
    for k in a.spikes:
        np.testing.assert_array_equal(a.spikes[k], b.spikes[k], err_msg=k)
        if voltages:
            np.testing.assert_array_equal(a.voltages[k], b.voltages[k], err_msg=k)
        else:
            np.testing.assert_allclose(a.voltages[k], b.voltages[k], rtol=0, atol=1e-4, err_msg=k)
    np.testing.assert_array_equal(a.output, b.output)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), c=st.integers(1, 6), scale=st.floats(0.05, 50.0), eps=st.sampled_from([1e-5, 1e-3]))
def test_batchnorm_lowering_is_bit_identical_to_cpu(seed, c, scale, eps):
    """Input -> BatchNorm -> LIF on real-valued frames: voltages bit-identical (no conv in between, whose
    float32 summation order differs between ONNX Runtime and torch)."""
    rng = np.random.default_rng(seed)
    f = np.float32
    shape = (c, 5, 7)
    nodes = {"input": nir.Input(input_type=np.array(shape)),
             "bn": BatchNorm(running_mean=rng.normal(0, scale, c).astype(f), running_var=rng.uniform(1e-3, 9, c).astype(f),
                             weight=rng.normal(1, 0.5, c).astype(f), bias=rng.normal(0, 1, c).astype(f), eps=eps),
             "lif": nir.LIF(tau=np.full(shape, 2e-3, f), r=np.full(shape, 2.0, f), v_leak=np.zeros(shape, f),
                            v_threshold=np.full(shape, 1.0, f), v_reset=np.zeros(shape, f)),
             "output": nir.Output(output_type=np.array(shape))}
    g = make_graph(nodes, [("input", "bn"), ("bn", "lif"), ("lif", "output")], {"snnc": {"T": 3, "threshold": ">="}})
    x = rng.normal(0, scale, (2, 3, *shape)).astype(f)
    _same(cpu.run(g, x, record_voltage=True), onnx_backend.run(g, x, record_voltage=True))


@pytest.mark.parametrize("model", ["lif-snn-3", "lif-snn-5", "res-snn-18"])
def test_raw_checkpoint_graphs_match_cpu(model):
    """model_to_graph without any pass (what ``snnc simulate model.pt --backend onnx`` runs)."""
    import torch

    from snnc.models.activity import scale_to_rate
    from snnc.frontends import model_to_graph
    from snnc.models import build_model

    widths = {"lif-snn-3": [4, 8, 8], "lif-snn-5": [4] * 5, "res-snn-18": [4] * 4}[model]
    torch.manual_seed(0)
    net = build_model({"model": model, "T": 4, "input_size": [32, 32], "num_classes": 4, "attention": "none",
                       "widths": widths}).eval()
    x = (np.random.default_rng(0).random((2, 4, 2, 32, 32)) < 0.2).astype(np.float32)
    scale_to_rate(net, torch.as_tensor(x))
    graph = model_to_graph(net)
    kinds = {type(n).__name__ for n in graph.nodes.values()}
    assert "BatchNorm" in kinds
    for timing in ("snnc", "lava"):
        ref = cpu.run(graph, x, timing=timing, record_voltage=True)
        assert sum(float(s.sum()) for s in ref.spikes.values()) > 0
        _same(ref, onnx_backend.run(graph, x, timing=timing, record_voltage=True), voltages=False)


def test_raw_asa_graph_is_one_clear_error():
    import torch

    from snnc.frontends import model_to_graph
    from snnc.models import build_model

    torch.manual_seed(0)
    net = build_model({"model": "lif-snn-3", "T": 4, "input_size": [32, 32], "num_classes": 4, "attention": "asa",
                       "widths": [4, 8, 8]}).eval()
    with pytest.raises(SnncError, match=r"onnx target: node 'b\d_attn' \(ASA\)"):
        onnx_backend.run(model_to_graph(net), np.zeros((1, 4, 2, 32, 32), np.float32))


def test_fixed_conv_wraps_modulo_2_24_like_cpu():
    """Sums up to 28·9·254·255 < 2^24 (inside float32 exactness) pass 2^23 − 1: both backends wrap, they do
    not clamp."""
    from snnc.compiler import fixed_point as fp

    w = np.full((2, 28, 3, 3), 254.0)
    w[1] = -254.0
    nodes = {"input": nir.Input(input_type=np.array([28, 5, 5])),
             "conv": nir.Conv2d(input_shape=(5, 5), weight=w, stride=1, padding=1, dilation=1, groups=1,
                                bias=np.zeros(2)),
             "lif": LoihiLIF(du=4095, dv=500, vth=60000, bias_mant=np.zeros((2, 5, 5), np.int64),
                             bias_exp=np.zeros((2, 5, 5), np.int64)),
             "output": nir.Output(output_type=np.array([2, 5, 5]))}
    g = make_graph(nodes, [("input", "conv"), ("conv", "lif"), ("lif", "output")], {"snnc": {"numerics": "fixed", "T": 3}})
    x = np.random.default_rng(0).integers(200, 256, (2, 3, 28, 5, 5)).astype(np.float32)
    ref = cpu.run(g, x, record_voltage=True)
    got = onnx_backend.run(g, x, record_voltage=True)
    _same(ref, got)
    # the conv signal the LIF integrates is the wrapped one: first-step u = a_in << 6 (du = 4095 keeps no memory)
    import torch

    a = torch.nn.functional.conv2d(torch.tensor(x[:, 0], dtype=torch.float64), torch.tensor(w), padding=1).numpy()
    a = fp.conv_output_clamp(np.round(a).astype(np.int64))
    raw = np.round(torch.nn.functional.conv2d(torch.tensor(x[:, 0], dtype=torch.float64), torch.tensor(w),
                                              padding=1).numpy()).astype(np.int64)
    assert np.any(raw > 2**23 - 1) and np.any(a != np.clip(raw, -2**23, 2**23 - 1)), "must exercise the wrap"
    u, v, s = fp.lif_step(np.zeros_like(a), np.zeros_like(a), a, 4095, 500, 60000, 0, 0)
    np.testing.assert_array_equal(got.voltages["lif"][:, 0], v)
    np.testing.assert_array_equal(got.spikes["lif"][:, 0], s.astype(np.float32))
