"""Graph-level properties over random layer shapes: fold_batchnorm + fuse_pooling (+ lower_pooling) keep
the currents a graph computes (reference simulator), and never mutate their input."""

from __future__ import annotations

import numpy as np
import nir
import pytest
from hypothesis import assume, given, settings, strategies as st

from passes_helpers import snapshot
from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import make_graph, node_kind
from snnc.compiler.ir.shapes import conv_output_hw, pool_output_hw
from snnc.compiler.passes import fold_batchnorm, fuse_pooling, lower_pooling

cpu = pytest.importorskip("snnc.backends.cpu")


def _graph(rng, c_in, c_out, k, s, p, pool_k, pool_kind, bn_after_pool, h):
    conv = nir.Conv2d(input_shape=None, weight=rng.normal(size=(c_out, c_in, k, k)).astype(np.float32),
                      stride=np.array([s, s]), padding=np.array([p, p]), dilation=np.array([1, 1]), groups=1,
                      bias=rng.normal(size=c_out).astype(np.float32))
    bn = ext.BatchNorm(running_mean=rng.normal(size=c_out).astype(np.float32),
                       running_var=rng.uniform(0.2, 2, c_out).astype(np.float32),
                       weight=rng.normal(size=c_out).astype(np.float32), bias=rng.normal(size=c_out).astype(np.float32))
    cls = nir.AvgPool2d if pool_kind == "avg" else nir.SumPool2d
    pool = cls(kernel_size=np.array([pool_k, pool_k]), stride=np.array([pool_k, pool_k]), padding=np.array([0, 0]))
    order = ["conv", "pool", "bn"] if bn_after_pool else ["conv", "bn", "pool"]
    nodes = {"input": nir.Input(input_type=np.array([c_in, h, h])), "conv": conv, "bn": bn, "pool": pool,
             "output": nir.Output(output_type=None)}
    chain = ["input", *order, "output"]
    return make_graph(nodes, list(zip(chain[:-1], chain[1:])), {"snnc": {"T": 2, "dt": 1e-3}})


@settings(max_examples=25, deadline=None)
@given(c_in=st.integers(1, 3), c_out=st.integers(1, 4), k=st.integers(1, 4), s=st.integers(1, 2), p=st.integers(0, 2),
       pool_k=st.integers(1, 3), pool_kind=st.sampled_from(["avg", "sum"]), bn_after_pool=st.booleans(),
       h=st.integers(5, 12), seed=st.integers(0, 2**16))
def test_exact_passes_keep_currents(c_in, c_out, k, s, p, pool_k, pool_kind, bn_after_pool, h, seed):
    hw = conv_output_hw((h, h), (k, k), s, p)
    assume(min(hw) >= 1 and min(pool_output_hw(hw, pool_k, pool_k)) >= 1)
    rng = np.random.default_rng(seed)
    g0 = _graph(rng, c_in, c_out, k, s, p, pool_k, pool_kind, bn_after_pool, h)
    x = rng.normal(size=(2, 2, c_in, h, h)).astype(np.float32)
    ref = cpu.run(g0, x).output
    before = snapshot(g0)
    g1, _ = fold_batchnorm(g0)
    g2, rec = fuse_pooling(g1)
    g3, _ = lower_pooling(g1)
    assert snapshot(g0) == before
    assert [node_kind(n) for n in g2.nodes.values()].count("Conv2d") == 1 and rec.removed == ["pool"]
    scale = float(np.max(np.abs(ref))) + 1.0
    for g in (g1, g2, g3):
        np.testing.assert_allclose(cpu.run(g, x).output, ref, rtol=1e-4, atol=1e-5 * scale)
