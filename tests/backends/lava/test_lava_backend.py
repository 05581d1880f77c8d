"""Lava backend: refusals, fixed-point weight checks, conv layout, groups bug, artifact, NIR reference graphs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import nir
import pytest

from lava_graphs import conv_graph, lif_node, spikes_input
from snnc.compiler.ir.graph_utils import make_graph
from snnc.errors import SnncError, UnsupportedNodeError
from snnc_testing import lif_paper_input, paper_lif_to_fixed
from snnc.backends.cpu import run as cpu_run


def _with(graph: nir.NIRGraph, name: str, node, after: str) -> nir.NIRGraph:
    """``graph`` with ``node`` inserted between ``after`` and its successor."""
    edges = []
    for a, b in graph.edges:
        if a == after:
            edges += [(a, name), (name, b)]
        else:
            edges.append((a, b))
    return make_graph({**graph.nodes, name: node}, edges, graph.metadata)


def test_import_snnc_backend_does_not_import_lava():
    code = "import snnc, snnc.backends.lava, sys; assert not any(m == 'lava' or m.startswith('lava.') for m in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


@pytest.mark.parametrize("kind", ["BatchNorm", "ASA", "MaxPool2d"])
def test_refuses_unhostable_nodes_naming_node_and_type(kind):
    from snnc.backends.lava import run
    from snnc.compiler.ir import nodes as ext

    g = conv_graph(np.random.default_rng(0))
    c = 3
    node = {"BatchNorm": lambda: ext.BatchNorm(running_mean=np.zeros(c), running_var=np.ones(c), weight=np.ones(c),
                                               bias=np.zeros(c)),
            "ASA": lambda: ext.ASA(alpha=np.zeros(1), gamma=np.zeros(1), fc1=np.eye(4), fc2=np.zeros((0, 0)),
                                   conv1=np.zeros((1, 2, 3, 3)), conv2=np.zeros((1, 2, 3, 3)), T=4),
            "MaxPool2d": lambda: ext.MaxPool2d(kernel_size=1, stride=1)}[kind]()
    g = _with(g, "b0_x", node, "b0_conv")
    with pytest.raises(UnsupportedNodeError, match=rf"'b0_x' has type {kind}"):
        run(g, np.zeros((1, 2, 2, 6, 5)))


def test_refuses_snnc_timing_and_subtractive_reset_in_fixed_point():
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run
    from snnc.compiler.passes.quantize import quantize

    rng = np.random.default_rng(0)
    g = conv_graph(rng)
    with pytest.raises(SnncError, match="timing"):
        run(g, np.zeros((1, 2, 2, 6, 5)), timing="snnc")
    x = spikes_input(rng, 2, 6, (2, 6, 5))
    gq, _ = quantize(g, run=cpu_run, calibration=x)
    g.metadata["snnc"]["reset"] = "subtract"  # float: Lava's floating_pt neuron subtracts (NIR <= 1.0.5 IF)
    lava, cpu = run(g, x), cpu_run(g, x, timing="lava")
    assert sum(float(s.sum()) for s in cpu.spikes.values()) > 0
    for k in cpu.spikes:
        np.testing.assert_array_equal(lava.spikes[k], cpu.spikes[k])
    gq.metadata["snnc"]["reset"] = "subtract"
    with pytest.raises(UnsupportedNodeError, match="subtractive"):
        run(gq, x)


def test_fixed_point_weight_overflow_fails_naming_layer_or_clips_with_count():
    from snnc.backends.lava.lower import lower
    from snnc.compiler.passes.quantize import quantize

    rng = np.random.default_rng(0)
    g = conv_graph(rng)
    gq, _ = quantize(g, run=cpu_run, calibration=spikes_input(rng, 2, 4, (2, 6, 5)))
    w = np.asarray(gq.nodes["b1_fc"].weight).copy()
    w[0, 0], w[1, 0] = 300.0, 3.0  # column 0 is column 0 in both CHW and Lava (W, H, C) order
    gq.nodes["b1_fc"] = nir.Affine(weight=w, bias=np.zeros(w.shape[0], np.float32))
    with pytest.raises(SnncError, match=r"layer 'b1_fc': 1 weight\(s\) outside 8 bits and 1 odd mixed-sign"):
        lower(gq)
    with pytest.warns(UserWarning, match=r"'b1_fc': clipped 1 weight\(s\) to 8 bits, truncated 1 LSB"):
        spec = lower(gq, clip_weights=True)
    dense = next(layer for layer in spec["layers"] if layer["name"] == "b1_fc")
    assert dense["weight"][0, 0] == 254 and dense["weight"][1, 0] == 2  # Lava's clip, then (w >> 1) << 1
    assert np.all(dense["weight"] % 2 == 0)
    positive = nir.Affine(weight=np.abs(w).clip(0, 255), bias=np.zeros(w.shape[0], np.float32))
    gq.nodes["b1_fc"] = positive  # a single-sign matrix keeps odd weights (Lava's excitatory mode)
    assert lower(gq)["layers"][-2]["weight"][1, 0] == 3


def test_conv_mapping_and_block_diagonal_regrouping_match_torch():
    import torch

    from snnc.backends.lava.layout import lava_conv_params
    from snnc.backends.lava.weights import regroup as _regroup

    rng = np.random.default_rng(0)
    for groups, c_in, c_out in [(1, 3, 4), (256, 256, 256), (130, 260, 130)]:
        w = rng.normal(size=(c_out, c_in // groups, 2, 3))
        x = rng.normal(size=(1, c_in, 5, 4))
        ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=(2, 1), padding=(1, 0),
                                         groups=groups).numpy()
        w2, g2 = _regroup(w, groups)
        assert g2 <= 127
        got = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w2), stride=(2, 1), padding=(1, 0),
                                         groups=g2).numpy()
        np.testing.assert_allclose(got, ref, atol=1e-10)
        p = lava_conv_params(w2, (c_in, 5, 4), (2, 1), (1, 0), 1, g2)
        assert p["weight"].shape == (c_out, 3, 2, c_in // g2) and p["stride"] == (1, 2) and p["padding"] == (0, 1)


@pytest.mark.lava
def test_sumpool_over_128_channels_is_not_silently_zero():
    """Lava keeps Conv.groups in an int8: a depthwise pool over 128 channels must be regrouped."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run

    C = 128
    nodes = {"input": nir.Input(input_type=np.array([C, 2, 2])),
             "b0_pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
             "b0_lif": lif_node((C, 1, 1), beta=0.5, theta=1.5),
             "output": nir.Output(output_type=np.array([C, 1, 1]))}
    g = make_graph(nodes, [("input", "b0_pool"), ("b0_pool", "b0_lif"), ("b0_lif", "output")],
                   {"snnc": {"threshold": ">", "dt": 1e-3}})
    x = spikes_input(np.random.default_rng(1), 1, 3, (C, 2, 2), p=0.6)
    res = run(g, x)
    ref = cpu_run(g, x, timing="lava")
    assert res.spikes["b0_lif"].sum() > 0
    np.testing.assert_array_equal(res.spikes["b0_lif"], ref.spikes["b0_lif"])


@pytest.mark.lava
def test_artifact_round_trip_runs_without_the_graph(tmp_path):
    from snnc.backends.lava import run, run_artifact, write_lava_artifact
    from snnc.compiler.passes.quantize import quantize

    rng = np.random.default_rng(4)
    g = conv_graph(rng, pool=2, timegain=5)
    x = spikes_input(rng, 2, 5, (2, 6, 5))
    gq, _ = quantize(g, run=cpu_run, calibration=x)
    folder = write_lava_artifact(gq, tmp_path)
    assert (folder / "spec.json").exists() and list(folder.glob("*.npy"))
    from snnc.artifact_manifest import write_manifest

    write_manifest(tmp_path, target="lava")  # run_artifact verifies the artifact's manifest first
    code = ("import sys, numpy as np; from snnc.backends.lava.artifact import read_spec; read_spec(sys.argv[1]); "
            "assert 'torch' not in sys.modules and 'nir' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=60).returncode == 0
    a, b = run_artifact(tmp_path, x, record_voltage=True), run(gq, x, record_voltage=True)
    for name in b.spikes:
        np.testing.assert_array_equal(a.spikes[name], b.spikes[name])
        np.testing.assert_array_equal(a.voltages[name], b.voltages[name])
    short = run_artifact(tmp_path, x[:, :3])  # causal: a shorter window is a prefix (gains longer than T)
    for name in b.spikes:
        np.testing.assert_array_equal(short.spikes[name], b.spikes[name][:, :3])
    with pytest.raises(SnncError, match="no Lava spec"):
        run_artifact(tmp_path / "nothing", x)


@pytest.mark.lava
def test_nir_paper_lif_reproduces_lava_cpu_and_loihi_traces(nir_reference):
    """lif_norse.nir with the paper's NIR → Lava mapping, on Lava fixed_pt: the published traces."""
    from snnc.backends.lava import run
    from snnc.frontends import load_graph

    folder = nir_reference / "01_lif"
    g = paper_lif_to_fixed(load_graph(str(folder / "lif_norse.nir")), 1e-4)
    res = run(g, lif_paper_input(), record_voltage=True)
    (name,) = res.spikes
    spikes, v = res.spikes[name][0, :, 0], res.voltages[name][0, :, 0]
    cpu = np.loadtxt(folder / "lif_lava_cpu_fixed.csv", delimiter=",")
    chip = np.loadtxt(folder / "lif_lava_loihi_fixed.csv", delimiter=",")
    assert np.flatnonzero(spikes).tolist() == np.flatnonzero(cpu[:, 2]).tolist() == [461, 511, 711, 761]
    np.testing.assert_array_equal(v, cpu[:, 1])
    assert np.flatnonzero(spikes).tolist() == np.flatnonzero(chip[:, 2]).tolist()
    at_spike = spikes != 0
    np.testing.assert_array_equal(v[~at_spike], chip[~at_spike, 1])
    assert np.all(chip[at_spike, 1] == 128) and np.all(v[at_spike] == 0)  # the chip reports 128 there


@pytest.mark.lava
def test_cnn_sinabs_compiles_to_lava_and_matches_cpu(nir_reference):
    """The NIR paper's N-MNIST CNN (IF neurons, SumPool, Flatten) on Lava floating_pt, 4 steps."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.lava import run
    from snnc.frontends import load_graph

    g = load_graph(str(nir_reference / "02_cnn" / "cnn_sinabs.nir"))
    x = spikes_input(np.random.default_rng(0), 1, 4, (2, 34, 34), p=0.3)
    res = run(g, x)
    ref = cpu_run(g, x, timing="lava")
    assert len(res.spikes) == 5 and res.extras["pad"] == 2  # SumPool → Conv chains: two idle steps
    assert sum(float(s.sum()) for s in res.spikes.values()) > 0
    for name in ref.spikes:
        np.testing.assert_array_equal(res.spikes[name], ref.spikes[name], err_msg=name)


def test_compare_runs_counts_differences():
    from snnc.backends.lava.compare import compare_runs
    from snnc.backends.result import SimResult

    s = np.zeros((1, 3, 2), np.float32)
    t = s.copy()
    t[0, 1, 1] = 1
    a = SimResult(spikes={"l": s}, output=s, voltages={"l": np.zeros((1, 3, 2))})
    b = SimResult(spikes={"l": t}, output=t, voltages={"l": np.full((1, 3, 2), 2.0)})
    assert compare_runs(a, b) == {"l": {"spikes_a": 0.0, "spikes_b": 1.0, "differing": 1, "identical": False,
                                        "max_abs_dv": 2.0}}
