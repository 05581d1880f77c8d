"""fuse_pooling / lower_pooling: exact in float64 (hypothesis over shapes, strides, paddings), structure."""

from __future__ import annotations

import numpy as np
import nir
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings, strategies as st

from passes_helpers import snapshot, tiny_graph
from snnc.compiler.ir.graph_utils import make_graph, node_kind
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.ir.verify import verify
from snnc.compiler.passes import fold_batchnorm, fuse_pooling, lower_pooling
from snnc.compiler.passes.fuse_pooling import fuse_conv_pool_params, pool_factor


def _pool(kind, y, k, s):
    out = F.avg_pool2d(y, k, s)
    return out if kind == "AvgPool2d" else out * (k[0] * k[1])


@settings(max_examples=80, deadline=None)
@given(c_in=st.integers(1, 3), c_out=st.integers(1, 3), kh=st.integers(1, 4), kw=st.integers(1, 4),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), dil=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       pad=st.tuples(st.integers(0, 2), st.integers(0, 2)), pk=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       ps=st.tuples(st.integers(1, 3), st.integers(1, 3)), h=st.integers(4, 14), w=st.integers(4, 14),
       kind=st.sampled_from(["AvgPool2d", "SumPool2d"]), seed=st.integers(0, 2**16))
def test_fused_conv_equals_conv_then_pool_float64(c_in, c_out, kh, kw, stride, dil, pad, pk, ps, h, w, kind, seed):
    rng = np.random.default_rng(seed)
    wt, b = rng.normal(size=(c_out, c_in, kh, kw)), rng.normal(size=c_out)
    x = torch.tensor(rng.normal(size=(2, c_in, h, w)))
    try:
        y = F.conv2d(x, torch.tensor(wt), torch.tensor(b), stride=stride, padding=pad, dilation=dil)
        ref = _pool(kind, y, pk, ps)
    except RuntimeError:
        assume(False)
    assume(ref.numel() > 0)
    w2, b2, s2 = fuse_conv_pool_params(wt, b, stride, dil, pk, ps, pool_factor(kind, pk))
    out = F.conv2d(x, torch.tensor(w2), torch.tensor(b2), stride=s2, padding=pad)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_3x3_avgpool2_is_quarter_sum_at_four_offsets():
    """energy.md §3.1: 3×3/s1/p1 conv + 2×2 avg pool = 4×4/s2/p1 conv, ¼ Σ of the kernel at 4 offsets."""
    rng = np.random.default_rng(1)
    wt = rng.normal(size=(2, 2, 3, 3))
    w2, b2, s2 = fuse_conv_pool_params(wt, np.zeros(2), (1, 1), (1, 1), (2, 2), (2, 2), 0.25)
    expect = np.zeros((2, 2, 4, 4))
    for u in (0, 1):
        for v in (0, 1):
            expect[:, :, u:u + 3, v:v + 3] += wt / 4
    assert s2 == (2, 2)
    np.testing.assert_array_equal(w2, expect)


def test_fuse_pooling_on_network_graph():
    g0, _ = fold_batchnorm(tiny_graph("asa"))
    before = snapshot(g0)
    g, rec = fuse_pooling(g0)
    assert snapshot(g0) == before
    assert sorted(rec.removed) == ["b1_pool", "b2_pool"]
    assert not any(node_kind(n) == "AvgPool2d" for n in g.nodes.values())
    verify(g)
    t0, t = infer_shapes(g0), infer_shapes(g)
    for name in ("b1_attn", "b2_attn", "b2_lif", "output"):
        assert shape_of(t, name, "input") == shape_of(t0, name, "input")
    assert g.nodes["b1_conv"].weight.shape[2:] == (4, 4) and list(g.nodes["b1_conv"].stride) == [2, 2]


def test_pool_after_shared_conv_is_not_fused():
    conv = nir.Conv2d(input_shape=None, weight=np.ones((1, 1, 3, 3), np.float32), stride=1, padding=1, dilation=1,
                      groups=1, bias=np.zeros(1, np.float32))
    nodes = {"input": nir.Input(input_type=np.array([1, 6, 6])), "conv": conv,
             "pool": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
             "pool2": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
             "output": nir.Output(output_type=np.array([1, 3, 3]))}
    g0 = make_graph(nodes, [("input", "conv"), ("conv", "pool"), ("conv", "pool2"), ("pool", "output"),
                            ("pool2", "output")])
    g, rec = fuse_pooling(g0)
    assert not rec.modified and set(rec.details["not_fused"]) == {"pool", "pool2"}


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 4), k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), pad=st.integers(0, 1), h=st.integers(3, 10),
       kind=st.sampled_from(["AvgPool2d", "SumPool2d"]), seed=st.integers(0, 2**16))
def test_lower_pooling_equals_pool(c, k, s, pad, h, kind, seed):
    assume(2 * pad <= min(k))
    cls = nir.AvgPool2d if kind == "AvgPool2d" else nir.SumPool2d
    pool = cls(kernel_size=np.array(k), stride=np.array(s), padding=np.array([pad, pad]))
    nodes = {"input": nir.Input(input_type=np.array([c, h, h])), "pool": pool, "output": nir.Output(output_type=None)}
    g, rec = lower_pooling(make_graph(nodes, [("input", "pool"), ("pool", "output")]))
    conv = g.nodes["pool"]
    assert isinstance(conv, nir.Conv2d) and conv.groups == c and rec.changed == ["pool"]
    x = torch.tensor(np.random.default_rng(seed).normal(size=(1, c, h, h)))
    ref = F.avg_pool2d(x, k, s, padding=pad, count_include_pad=True) * (1 if kind == "AvgPool2d" else k[0] * k[1])
    out = F.conv2d(x, torch.tensor(conv.weight, dtype=torch.float64), torch.tensor(conv.bias, dtype=torch.float64),
                   stride=tuple(conv.stride), padding=tuple(conv.padding), groups=c)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
