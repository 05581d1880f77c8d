"""fuse_asa_gains: gains equal the mean exact ASA factor (oracle: the PyTorch model's own ASA modules),
layer by layer on the already-fused upstream, at every granularity; no mutation; bad options refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from passes_helpers import snapshot, tiny_frames, tiny_graph, tiny_model
from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.passes import PassError, fold_batchnorm, fuse_asa_gains
from snnc.compiler.passes.fuse_asa_gains import reduce_gain
from snnc.backends.cpu import run as cpu_run

pytest.importorskip("snnc.backends.cpu")


def _oracle_gains(model, x, upstream: str, gran: str) -> list[np.ndarray]:
    """Mean ASA factor (T, C, H, W) of each conv block; earlier blocks exact or with their fused gain."""
    from snnc.models.blocks import per_frame

    gains = []
    h = torch.from_numpy(x)
    with torch.no_grad():
        for block in model.blocks[:3]:
            z = per_frame(h, block.inpool, block.conv, block.bn, block.pool)
            f = block.attn.factor(z)
            mean = f.double().mean(dim=0).numpy()
            gains.append(mean)
            fused = torch.from_numpy(reduce_gain(mean, gran).astype(np.float32))
            h = block.lif(z * (fused[None] if upstream == "fused" else f))
    return gains


@pytest.mark.parametrize("upstream", ["fused", "exact"])
def test_gains_are_mean_exact_factor(upstream):
    model = tiny_model("asa", seed=3)
    x = tiny_frames(6, seed=3)
    g0, _ = fold_batchnorm(tiny_graph("asa", seed=3))
    for gran in ("tchw", "tc", "t"):
        expected = _oracle_gains(model, x, upstream, gran)
        g, rec = fuse_asa_gains(g0, run=cpu_run, calibration=x, granularity=gran, upstream=upstream)
        assert not any(node_kind(n) == "ASA" for n in g.nodes.values())
        for i, exp in enumerate(expected):
            node = g.nodes[f"b{i}_attn"]
            assert node_kind(node) == "TimeGain"
            want = reduce_gain(exp, gran)
            assert node.gain.shape == want.shape
            np.testing.assert_allclose(node.gain, want, rtol=1e-5, atol=1e-6)
        assert rec.changed == ["b0_attn", "b1_attn", "b2_attn"]


def test_reduce_gain_shapes_and_means():
    mean = np.random.default_rng(0).uniform(size=(4, 3, 5, 6))
    assert reduce_gain(mean, "tc").shape == (4, 3, 1, 1)
    np.testing.assert_allclose(reduce_gain(mean, "t").reshape(4), mean.reshape(4, -1).mean(axis=1))
    np.testing.assert_array_equal(reduce_gain(mean, "tchw"), mean)
    with pytest.raises(PassError, match="unknown granularity 'x'"):
        reduce_gain(mean, "x")


def test_no_mutation_and_needs_calibration():
    g0, _ = fold_batchnorm(tiny_graph("asa"))
    before = snapshot(g0)
    fuse_asa_gains(g0, run=cpu_run, calibration=tiny_frames(2), granularity="tc")
    assert snapshot(g0) == before
    with pytest.raises(PassError, match="needs calibration frames"):
        fuse_asa_gains(g0, run=cpu_run, calibration=None)


def test_channel_granularity_is_time_constant_and_folds_exactly():
    from snnc.backends.cpu import run
    from snnc.compiler.passes import fold_static_gains

    x = tiny_frames(3, seed=5)
    g0, _ = fold_batchnorm(tiny_graph("asa", seed=5))
    g, _ = fuse_asa_gains(g0, run=cpu_run, calibration=x, granularity="c")
    gain = g.nodes["b1_attn"].gain
    assert gain.shape == (4, 4, 1, 1) and np.all(gain == gain[:1])
    before = snapshot(g)
    folded, rec = fold_static_gains(g)
    assert snapshot(g) == before
    assert sorted(rec.removed) == ["b0_attn", "b1_attn", "b2_attn"]
    assert not any(node_kind(n) == "TimeGain" for n in folded.nodes.values())
    v = np.random.default_rng(5).uniform(0, 1.5, size=(2, 4, 2, 8, 8)).astype(np.float32)
    a, b = run(g, v, record_voltage=True), run(folded, v, record_voltage=True)
    for name in ("b0_lif", "b1_lif", "b2_lif"):
        np.testing.assert_allclose(b.voltages[name], a.voltages[name], rtol=1e-5, atol=1e-5)
    tc, _ = fuse_asa_gains(g0, run=cpu_run, calibration=x, granularity="tc")
    _, rec_tc = fold_static_gains(tc)
    assert not rec_tc.removed and len(rec_tc.details["not_folded"]) == 3
