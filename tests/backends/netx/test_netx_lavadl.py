"""NetX files run in lava-dl 0.6.0's own ``netx.hdf5.Network`` (stock Conv/Dense/LIF processes on
``Loihi2SimCfg(select_tag="fixed_pt")``) and equal snnc's CPU fixed-point simulator in every layer.

NetX delays one step per block (a fused pool adds none): block k (depth k + 1) is read out at window
steps k + 1 … k + T with NetX's staggered reset (``backends/netx/runner.py``), which is snnc timing; the
oracle is the CPU simulator on the same compiled graph under snnc timing, spike for spike, every layer.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from netx_graphs import chain_graph, compile_netx

from snnc.backends.cpu import run as cpu_run

pytestmark = pytest.mark.lava

STOCK = {"lava.proc.conv.process.Conv", "lava.proc.dense.process.Dense", "lava.proc.lif.process.LIF",
         "lava.proc.lif.process.LIFReset"}


def _netx_equals_cpu(graph, x, *, active: bool = True) -> dict:
    """Run ``graph`` as NetX in lava-dl and on the CPU; every layer's spikes equal. Returns the NetX extras."""
    from snnc.backends.netx import run as netx_run

    got = netx_run(graph, x)
    ref = cpu_run(graph, x, timing="snnc")
    assert set(got.spikes) == set(ref.spikes)
    for name in ref.spikes:
        if active:
            assert ref.spikes[name].sum() > 0, f"{name} is silent: the comparison would prove nothing"
        np.testing.assert_array_equal(got.spikes[name], ref.spikes[name], err_msg=name)
    assert set(got.extras["netx"]["processes"]) <= STOCK
    return got.extras["netx"]


def test_demo_asa_model_netx_equals_cpu_fixed_point():
    """The demo ASA LIF-SNN-3 (per-channel attention gains folded into the weights, pools fused by
    fuse_pooling): 5 blocks, D = pipeline_depth of the compiled graph."""
    import torch

    from snnc.models.activity import scale_to_rate
    from snnc.compiler.ir.depth import pipeline_depth
    from snnc.data import load_dataset
    from snnc.frontends.torch_model import model_to_graph
    from snnc.models import build_model, demo_config

    cfg = demo_config("asa")
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    calib, _ = load_dataset("synthetic", "train", 8, cfg["T"], 0)
    scale_to_rate(model, torch.as_tensor(calib))
    source = model_to_graph(model)
    assert any(type(n).__name__ == "ASA" for n in source.nodes.values())
    graph = compile_netx(source, calib)
    assert not any(type(n).__name__ == "TimeGain" for n in graph.nodes.values())
    x, _ = load_dataset("synthetic", "test", 2, cfg["T"], 1)
    info = _netx_equals_cpu(graph, x)
    assert [b["neuron"] for b in info["blocks"]] == [f"b{i}_lif" for i in range(5)]
    assert info["depth"] == pipeline_depth(graph) == 5


def test_cnn_sinabs_netx_equals_cpu_fixed_point(nir_reference):
    """cnn_sinabs.nir (Sinabs): both spike SumPools fused (into a conv and into the dense after Flatten).
    Its IF nodes reset by subtraction (nir 0.2.0), which Loihi's LIF cannot: the test compiles the
    file's topology and weights with reset to zero (what `--target netx` refuses to do silently)."""
    from snnc.compiler.ir.depth import pipeline_depth
    from snnc.frontends import load_graph

    graph = load_graph(nir_reference / "02_cnn" / "cnn_sinabs.nir")
    assert graph.metadata["snnc"]["reset"] == "subtract"
    graph.metadata = {**graph.metadata, "snnc": {**graph.metadata["snnc"], "reset": "zero"}}
    rng = np.random.default_rng(0)
    x = (rng.random((1, 8, 2, 34, 34)) < 0.3).astype(np.float32)
    compiled = compile_netx(graph, x)
    info = _netx_equals_cpu(compiled, x)
    assert [b["fused"] for b in info["blocks"]] == [[], [], ["4"], ["7"], []]
    assert info["depth"] == 5 == pipeline_depth(compiled) - 2  # two pools fused: one step each saved


chains = st.fixed_dictionaries({
    "seed": st.integers(0, 2**16),
    "HW": st.sampled_from([(4, 4), (6, 4), (4, 6), (8, 6)]),
    "k1": st.sampled_from([1, 3]),
    "pool1": st.sampled_from([0, 2]),
    "k2": st.integers(1, 3),
    "stride2": st.integers(1, 2),
    "pad2": st.integers(0, 1),
    "pool2": st.sampled_from([0, 2]),
    "bias": st.booleans(),
    "beta": st.sampled_from([0.3, 0.7, 0.95]),
    "counts": st.booleans(),
})


def _chain_case(p: dict) -> None:
    rng = np.random.default_rng(p["seed"])
    H, W = p["HW"]
    g = chain_graph(rng, H=H, W=W, k1=p["k1"], pool1=p["pool1"], k2=p["k2"], stride2=p["stride2"], pad2=p["pad2"],
                    pool2=p["pool2"], bias=p["bias"], beta=p["beta"])
    shape = (2, 6, 2, H, W)
    x = (rng.poisson(0.5, shape) if p["counts"] else rng.random(shape) < 0.4).astype(np.float32)
    _netx_equals_cpu(compile_netx(g, x), x, active=False)


def _examples(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


FUSED_CASE = {"seed": 7, "HW": (8, 6), "k1": 3, "pool1": 2, "k2": 3, "stride2": 1, "pad2": 1, "pool2": 2,
              "bias": True, "beta": 0.7, "counts": True}  # both spike pools fused, graded input, biases


@given(chains)
@example(FUSED_CASE)
@_examples(2)
def test_random_conv_dense_pool_chains_netx_equal_cpu(p):
    _chain_case(p)


@pytest.mark.slow
@given(chains)
@_examples(15)
def test_random_chains_netx_equal_cpu_many(p):
    _chain_case(p)


def test_netx_loaded_without_reset_is_lava_timing(tmp_path):
    """Loaded as NetX does by default (no reset): one step of delay per block, which is the CPU simulator's
    lava timing (no spike pool to fuse here, so D = pipeline_depth); the window is padded with D zero
    frames so the last input frame reaches the output block."""
    from snnc.backends.netx import write_netx
    from snnc.backends.netx.runner import run_file
    from snnc.compiler.ir.depth import pipeline_depth

    rng = np.random.default_rng(5)
    x = (rng.random((1, 6, 2, 6, 6)) < 0.4).astype(np.float32)
    compiled = compile_netx(chain_graph(rng, k2=3, pad2=0), x)
    D = pipeline_depth(compiled)
    padded = np.concatenate([x, np.zeros((1, D) + x.shape[2:], np.float32)], axis=1)
    doc = write_netx(compiled, tmp_path / "n.net")
    assert doc["depth"] == D == 3
    got, _ = run_file(tmp_path / "n.net", doc, padded, staggered=False)
    ref = cpu_run(compiled, padded, timing="lava")
    for name in ref.spikes:
        assert ref.spikes[name].sum() > 0, name
        np.testing.assert_array_equal(got[name], ref.spikes[name], err_msg=name)


def test_lif_norse_netx_equals_cpu(tmp_path, nir_reference):
    """lif_norse.nir (Norse, one Affine → LIF neuron, dt 1e-4) on the NIR paper's 1000-step input."""
    from snnc_testing import lif_paper_input

    from snnc.backends.netx import write_netx
    from snnc.backends.netx.runner import run_file
    from snnc.compile_prep import prepare_source
    from snnc.compiler.compile_options import CompileOptions
    from snnc.frontends import load_graph

    path = nir_reference / "01_lif" / "lif_norse.nir"
    x = np.asarray(lif_paper_input(), np.float32).reshape(1, -1, 1)
    opts = CompileOptions(target="netx", gain_granularity="c", dt=1e-4, T=x.shape[1])
    source, _ = prepare_source(load_graph(path), opts, str(path))
    compiled = compile_netx(source, x)
    doc = write_netx(compiled, tmp_path / "n.net")
    got, _ = run_file(tmp_path / "n.net", doc, x)
    ref = cpu_run(compiled, x, timing="snnc")
    assert ref.spikes["1"].sum() > 0
    np.testing.assert_array_equal(got["1"], ref.spikes["1"])
