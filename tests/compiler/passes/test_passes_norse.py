"""Cross-check: after fold_batchnorm (+ fuse_pooling, fold_lif_r) the standard-NIR export of a vanilla
network runs in Norse 1.1.0 and gives the same output spikes as snnc's PyTorch model.

toolchain.md §3 conditions: batch size 1 (Norse's Flatten(start_dim=0) flattens the batch); r folded
into the weights (Norse ignores r); no AvgPool2d (Norse silently drops it: fuse_pooling removes the
pools); every graph node must survive as a Norse module. Threshold: snnc fires at v >= θ, Norse at
v > θ; the inputs are continuous random values, so exact ties have probability ~0.
"""

from __future__ import annotations

import warnings

import numpy as np
import nir
import pytest
import torch

from passes_helpers import tiny_model
from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.ir.serialize import export_standard, write_graph
from snnc.compiler.passes import fold_batchnorm, fold_lif_r, fuse_pooling
from snnc.frontends import model_to_graph
from snnc.backends.cpu import run as cpu_run

norse = pytest.importorskip("norse.torch")
T = 12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_norse_runs_folded_export_with_identical_spikes(seed, tmp_path):
    model = tiny_model("none", seed=seed, T=T)
    g = model_to_graph(model)
    for p in (fold_batchnorm, fuse_pooling, fold_lif_r):
        g, _ = p(g)
    std, notes = export_standard(g)
    assert notes == []
    assert not {node_kind(n) for n in std.nodes.values()} & {"BatchNorm", "AvgPool2d"}
    write_graph(tmp_path / "g.nir", std)
    ng = nir.read(str(tmp_path / "g.nir"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = norse.from_nir(ng)
    assert {n for n, _ in net.named_children()} == set(ng.nodes)  # no node silently dropped
    x = np.random.default_rng(seed).uniform(0.0, 1.5, size=(1, T, 2, 8, 8)).astype(np.float32)
    with torch.no_grad():
        ref = model.forward_record(torch.from_numpy(x))["b4"][0].numpy()
        state, outs = None, []
        for t in range(T):
            out, state = net(torch.from_numpy(x[:, t]), state)
            outs.append(out.reshape(-1))
    got = torch.stack(outs).numpy()
    assert ref.sum() > 0
    np.testing.assert_array_equal(got, ref)


def test_asa_network_with_channel_gains_runs_in_norse(tmp_path):
    """ASA fused at granularity c is folded into the weights: the whole ASA network is standard NIR, and
    Norse reproduces the reference simulator's output spikes on the compiled graph."""
    from passes_helpers import tiny_frames, tiny_graph

    from snnc.backends.cpu import run
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import run_pipeline, select_passes

    names = select_passes("nir")
    assert names == ["fold_batchnorm", "fuse_pooling", "fuse_asa_gains", "fold_static_gains", "fold_lif_r"]
    g, _ = run_pipeline(tiny_graph("asa", seed=4, T=T), names, {"fuse_asa_gains": {"granularity": "c"}},
                        context=PipelineContext(run=cpu_run, calibration=tiny_frames(4, seed=4, T=T)))
    std, notes = export_standard(g)
    assert notes == []
    write_graph(tmp_path / "g.nir", std)
    ng = nir.read(str(tmp_path / "g.nir"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = norse.from_nir(ng)
    assert {n for n, _ in net.named_children()} == set(ng.nodes)
    x = np.random.default_rng(4).uniform(0.0, 1.5, size=(2, T, 2, 8, 8)).astype(np.float32)
    ref = run(g, x).output
    assert ref.sum() > 0
    for i in range(len(x)):
        state, outs = None, []
        with torch.no_grad():
            for t in range(T):
                out, state = net(torch.from_numpy(x[i:i + 1, t]), state)
                outs.append(out.reshape(-1))
        np.testing.assert_array_equal(torch.stack(outs).numpy(), ref[i])
