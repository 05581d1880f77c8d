"""The exact passes preserve the network: the reference simulator on the rewritten graph gives the same
spikes as the PyTorch model (random continuous inputs: threshold ties have probability ~0)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from passes_helpers import snapshot, tiny_graph, tiny_model
from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.passes import fold_batchnorm, fold_lif_r, fuse_pooling, lower_pooling

cpu = pytest.importorskip("snnc.backends.cpu")


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_passes_keep_spikes(seed):
    model = tiny_model("none", seed=seed, T=6)
    x = np.random.default_rng(seed).uniform(0.0, 1.5, size=(3, 6, 2, 8, 8)).astype(np.float32)
    with torch.no_grad():
        rec = model.forward_record(torch.from_numpy(x))
    g = tiny_graph("none", seed=seed, T=6)
    for p in (fold_batchnorm, fuse_pooling, fold_lif_r, lower_pooling):
        before = snapshot(g)
        g2, _ = p(g)
        assert snapshot(g) == before
        g = g2
        res = cpu.run(g, x)
        for i in range(5):
            np.testing.assert_array_equal(res.spikes[f"b{i}_lif"], rec[f"b{i}"].numpy(), err_msg=f"{p.__name__} b{i}")


def test_fold_lif_r_sets_r_to_one():
    g, rec = fold_lif_r(fold_batchnorm(tiny_graph("none"))[0])
    for name, node in g.nodes.items():
        if node_kind(node) == "LIF":
            assert np.all(node.r == 1), name
    assert set(rec.deltas) == {f"b{i}_lif" for i in range(5)}
    r = 1 / (1 - np.float32(0.3))
    g0, _ = fold_batchnorm(tiny_graph("none"))
    np.testing.assert_allclose(g.nodes["b3_fc"].weight, g0.nodes["b3_fc"].weight * r, rtol=1e-6)
