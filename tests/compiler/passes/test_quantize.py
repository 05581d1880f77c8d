"""quantize: Lava fixed-point ranges, integer weights within 8 bits and even, overflow refusal, no mutation."""

from __future__ import annotations

import numpy as np
import nir
import pytest
from hypothesis import given, settings, strategies as st

from passes_helpers import snapshot, tiny_graph
from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, node_kind
from snnc.compiler.ir.verify import verify
from snnc.compiler.passes import PassError, fold_batchnorm, fuse_pooling, quantize
from snnc.compiler.fixed_point import decay_to_int, encode_gain


def _float_graph(with_gain: bool):
    g, _ = fuse_pooling(fold_batchnorm(tiny_graph("asa"))[0])
    g = copy_graph(g)
    rng = np.random.default_rng(0)
    for name in [n for n, node in g.nodes.items() if node_kind(node) == "ASA"]:
        c = int(g.nodes[name].shape[0]) if g.nodes[name].shape.size else 4
        gain = rng.uniform(0.2, 0.8, size=(4, c, 1, 1)).astype(np.float32) if with_gain else np.ones((4, 1, 1, 1))
        g.nodes[name] = ext.TimeGain(gain=gain)
    return g


def test_quantize_obeys_lava_ranges():
    g0 = _float_graph(with_gain=True)
    before = snapshot(g0)
    g, rec = quantize(g0)
    assert snapshot(g0) == before
    verify(g)
    assert g.metadata["snnc"]["numerics"] == "fixed" and g.metadata["snnc"]["threshold"] == ">"
    assert not any(node_kind(n) == "LIF" for n in g.nodes.values())
    for name, node in g.nodes.items():
        kind = node_kind(node)
        if kind in ("Conv2d", "Affine"):
            w = np.asarray(node.weight)
            assert np.array_equal(w, np.round(w)) and np.all(w % 2 == 0), name
            assert w.min() >= -256 and w.max() <= 254, name
            assert not np.any(node.bias)
            assert node.metadata["snnc"]["scale"] > 0
        elif kind == "LoihiLIF":
            assert node.du == 4095 and 0 <= node.dv <= 4095 and 0 <= node.vth <= 131071
            assert node.bias_mant.min() >= -4096 and node.bias_mant.max() <= 4095
            assert np.all(node.bias_exp == 6)
        elif kind == "TimeGain":
            assert node.gain_mant.shape == node.gain.shape and node.gain_mant.max() <= 255
            np.testing.assert_allclose(node.gain_mant / 2.0**node.gain_shift, node.gain, atol=2.0**-node.gain_shift)
    # the scale is the largest without clipping: some weight sits at the 8-bit edge (±254 or −256)
    for name, d in rec.deltas.items():
        assert d["weights_clipped"] == 0 and d["dv"] == decay_to_int(0.3) == 2867
        w = np.concatenate([np.abs(np.asarray(g.nodes[s].weight)).ravel() for s in d["synapses"]])
        assert w.max() >= 252, name  # at most one even step below the bound


def test_forced_scale_overflow_fails_or_clips():
    g0 = _float_graph(with_gain=False)
    with pytest.raises(PassError, match=r"quantize: layer 'b\d_(conv|fc)': \d+ weight\(s\) overflow 8 bits"):
        quantize(g0, weight_scale=1e4)
    g, rec = quantize(g0, weight_scale=1e4, clip_weights=True)
    assert sum(d["weights_clipped"] for d in rec.deltas.values()) > 0 and rec.warnings


def test_quantize_refuses_unfused_asa_and_bn():
    with pytest.raises(PassError, match=r"'b0_bn' \(BatchNorm\) must be removed first \(fold_batchnorm\)"):
        quantize(tiny_graph("none"))
    g, _ = fold_batchnorm(tiny_graph("asa"))
    with pytest.raises(PassError, match=r"'b0_attn' \(ASA\) must be removed first \(fuse_asa_gains\)"):
        quantize(g)


def test_gain_to_fixed_properties():
    rng = np.random.default_rng(3)
    for _ in range(50):
        gain = rng.uniform(0.0, rng.uniform(0.01, 4.0), size=(5, 3))
        mant, shift = encode_gain(gain)
        assert mant.max() <= 255 and (shift == 0 or np.round(gain.max() * 2.0 ** (shift + 1)) > 255)
        assert np.max(np.abs(mant / 2.0**shift - gain)) <= 2.0 ** -(shift + 1) + 1e-12


@settings(max_examples=30, deadline=None)
@given(f_in=st.integers(1, 12), f_out=st.integers(1, 6), log_scale=st.floats(-3, 3), bias=st.floats(-2, 2),
       theta=st.floats(0.05, 4.0), beta=st.floats(0.0, 0.95), seed=st.integers(0, 2**16))
def test_quantize_ranges_over_random_layers(f_in, f_out, log_scale, bias, theta, beta, seed):
    """Any magnitude of weights, bias, threshold and decay: Lava ranges hold and nothing clips silently."""
    from snnc.compiler.ir.graph_utils import make_graph
    from snnc.frontends.common import lif_node

    rng = np.random.default_rng(seed)
    w = (rng.normal(size=(f_out, f_in)) * 10.0**log_scale).astype(np.float32)
    nodes = {"input": nir.Input(input_type=np.array([f_in])),
             "fc": nir.Affine(weight=w, bias=np.full(f_out, bias, np.float32)),
             "lif": lif_node(beta, 1.0, theta, (f_out,)), "output": nir.Output(output_type=np.array([f_out]))}
    g0 = make_graph(nodes, [("input", "fc"), ("fc", "lif"), ("lif", "output")], {"snnc": {"T": 3, "dt": 1e-3}})
    g, rec = quantize(g0)
    verify(g)
    q, lif = np.asarray(g.nodes["fc"].weight), g.nodes["lif"]
    assert np.all(q % 2 == 0) and q.min() >= -256 and q.max() <= 254
    assert rec.deltas["lif"]["weights_clipped"] == 0 and rec.deltas["lif"]["bias_clipped"] == 0
    assert 0 <= lif.vth <= 131071 and np.all(np.abs(lif.bias_mant) <= 4096)
    assert lif.dv == decay_to_int(np.float32(beta))
    scale = g.nodes["fc"].metadata["snnc"]["scale"]
    np.testing.assert_allclose(q / scale, w, atol=1.0 / scale + 1e-12)  # within one even step


def test_lif_without_metadata_uses_tau_and_r():
    """A third-party LIF (no snnc metadata): β = 1 − dt/τ and g = (dt/τ)·r give the same encoding."""
    g0 = _float_graph(with_gain=False)
    bare = copy_graph(g0)
    for name, node in bare.nodes.items():
        if node_kind(node) == "LIF":
            node.metadata = {}
    a, _ = quantize(g0)
    b, _ = quantize(bare)
    for name, node in a.nodes.items():
        if node_kind(node) == "LoihiLIF":
            other = b.nodes[name]
            assert (node.dv, node.vth) == (other.dv, other.vth)
            np.testing.assert_array_equal(node.bias_mant, other.bias_mant)
