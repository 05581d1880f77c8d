"""fold_batchnorm: exact in float64 against direct evaluation, structure, refusals, no mutation."""

from __future__ import annotations

import numpy as np
import nir
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from passes_helpers import snapshot, tiny_graph, tiny_model
from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import make_graph, node_kind
from snnc.compiler.ir.verify import verify
from snnc.compiler.passes import PassError, fold_batchnorm
from snnc.compiler.passes.fold_batchnorm import fold_bn_params


def _bn_params(rng, c):
    return dict(mean=rng.normal(size=c), var=rng.uniform(0.1, 2.0, c), eps=1e-5,
                gamma=rng.normal(size=c), beta=rng.normal(size=c))


def _bn64(y, p):
    shape = (1, -1) + (1,) * (y.ndim - 2)
    t = lambda a: torch.tensor(a, dtype=torch.float64).reshape(shape)  # noqa: E731
    return (y - t(p["mean"])) / torch.sqrt(t(p["var"]) + p["eps"]) * t(p["gamma"]) + t(p["beta"])


@settings(max_examples=40, deadline=None)
@given(c_in=st.integers(1, 4), c_out=st.integers(1, 5), k=st.integers(1, 4), stride=st.integers(1, 3),
       padding=st.integers(0, 2), pool=st.sampled_from([None, "avg", "sum"]), seed=st.integers(0, 2**16))
def test_fold_conv_bn_exact_in_float64(c_in, c_out, k, stride, padding, pool, seed):
    """BN(P(conv(x))) == P(conv'(x)) to float64 rounding, with and without a pool P in between."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(c_out, c_in, k, k)), rng.normal(size=c_out)
    p = _bn_params(rng, c_out)
    x = torch.tensor(rng.normal(size=(2, c_in, 9, 10)))
    kappa = {None: 1.0, "avg": 1.0, "sum": 4.0}[pool]
    pool_fn = {None: lambda y: y, "avg": lambda y: F.avg_pool2d(y, 2), "sum": lambda y: 4 * F.avg_pool2d(y, 2)}[pool]
    direct = _bn64(pool_fn(F.conv2d(x, torch.tensor(w), torch.tensor(b), stride=stride, padding=padding)), p)
    w2, b2 = fold_bn_params(w, b, p["mean"], p["var"], p["eps"], p["gamma"], p["beta"], bias_gain=kappa)
    folded = pool_fn(F.conv2d(x, torch.tensor(w2), torch.tensor(b2), stride=stride, padding=padding))
    assert w2.dtype == np.float64 and b2.dtype == np.float64
    np.testing.assert_allclose(folded.numpy(), direct.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(f_in=st.integers(1, 6), f_out=st.integers(1, 6), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_fold_affine_bn_exact_in_float64(f_in, f_out, bias, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(f_out, f_in))
    b = rng.normal(size=f_out) if bias else None
    p = _bn_params(rng, f_out)
    x = torch.tensor(rng.normal(size=(3, f_in)))
    direct = _bn64(F.linear(x, torch.tensor(w), None if b is None else torch.tensor(b)), p)
    w2, b2 = fold_bn_params(w, b, p["mean"], p["var"], p["eps"], p["gamma"], p["beta"])
    np.testing.assert_allclose(F.linear(x, torch.tensor(w2), torch.tensor(b2)).numpy(), direct.numpy(),
                               rtol=1e-12, atol=1e-12)


def test_fold_matches_torch_fuse_conv_bn_eval():
    """Independent oracle: torch.nn.utils.fusion.fuse_conv_bn_eval on the model's own modules."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = tiny_model("none")
    g, rec = fold_batchnorm(tiny_graph("none"))
    for i in range(3):
        block = model.blocks[i]
        fused = fuse_conv_bn_eval(block.conv, block.bn)
        node = g.nodes[f"b{i}_conv"]
        assert node.weight.dtype == np.float32
        np.testing.assert_allclose(node.weight, fused.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(node.bias, fused.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert sorted(rec.removed) == ["b0_bn", "b1_bn", "b2_bn"]
    assert sorted(rec.changed) == ["b0_conv", "b1_conv", "b2_conv"]


def test_fold_structure_and_no_mutation():
    g0 = tiny_graph("asa")
    before = snapshot(g0)
    g, rec = fold_batchnorm(g0)
    assert snapshot(g0) == before
    assert not any(node_kind(n) == "BatchNorm" for n in g.nodes.values())
    assert ("b1_conv", "b1_pool") in g.edges and ("b0_conv", "b0_attn") in g.edges
    assert len(g.nodes) == len(g0.nodes) - 3
    verify(g)
    # idempotent: a second run changes nothing
    g2, rec2 = fold_batchnorm(g)
    assert not rec2.modified and snapshot(g2) == snapshot(g)


def _bn(c):
    return ext.BatchNorm(running_mean=np.zeros(c, np.float32), running_var=np.ones(c, np.float32),
                         weight=np.ones(c, np.float32), bias=np.zeros(c, np.float32))


def _affine(o, i):
    return nir.Affine(weight=np.ones((o, i), np.float32), bias=np.zeros(o, np.float32))


def test_refuses_bn_after_a_neuron():
    from snnc.frontends.common import lif_node

    nodes = {"input": nir.Input(input_type=np.array([3])), "fc": _affine(3, 3),
             "lif": lif_node(0.5, 1.0, 1.0, (3,)), "bn": _bn(3), "output": nir.Output(output_type=np.array([3]))}
    g = make_graph(nodes, [("input", "fc"), ("fc", "lif"), ("lif", "bn"), ("bn", "output")], {"snnc": {"T": 2}})
    with pytest.raises(PassError, match=r"BatchNorm 'bn' follows 'lif' \(LIF\)"):
        fold_batchnorm(g)


def test_refuses_bn_after_fan_in_and_shared_synapse():
    nodes = {"input": nir.Input(input_type=np.array([3])), "a": _affine(3, 3), "b": _affine(3, 3), "bn": _bn(3),
             "output": nir.Output(output_type=np.array([3]))}
    g = make_graph(nodes, [("input", "a"), ("input", "b"), ("a", "bn"), ("b", "bn"), ("bn", "output")])
    with pytest.raises(PassError, match="'bn' has several inputs"):
        fold_batchnorm(g)
    shared = make_graph(nodes, [("input", "a"), ("a", "bn"), ("a", "b"), ("b", "output"), ("bn", "output")])
    with pytest.raises(PassError, match=r"synapse 'a' \(Affine\) also feeds other nodes"):
        fold_batchnorm(shared)


def test_linear_becomes_affine():
    rng = np.random.default_rng(0)
    bn = _bn(2)
    bn.running_mean = rng.normal(size=2).astype(np.float32)
    nodes = {"input": nir.Input(input_type=np.array([3])), "fc": nir.Linear(weight=rng.normal(size=(2, 3))),
             "bn": bn, "output": nir.Output(output_type=np.array([2]))}
    g, _ = fold_batchnorm(make_graph(nodes, [("input", "fc"), ("fc", "bn"), ("bn", "output")]))
    assert isinstance(g.nodes["fc"], nir.Affine)
    assert g.nodes["fc"].weight.dtype == np.float64  # float64 weights stay float64
    np.testing.assert_allclose(g.nodes["fc"].bias, -bn.running_mean / np.sqrt(1 + 1e-5), rtol=1e-6)
