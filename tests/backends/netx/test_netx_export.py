"""``snnc compile --target netx``: the HDF5 schema lava-dl 0.6.0 reads, written with h5py alone and
atomically, its refusals (one line naming the node and the way out), and the CLI artifact run in lava-dl."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import nir
import pytest

from netx_graphs import chain_graph, compile_netx, lif_node

from snnc_testing import run_cli, tree_state

from snnc.compiler.ir.graph_utils import make_graph
from snnc.errors import SnncError

META = {"snnc": {"format": 1, "threshold": ">", "reset": "zero", "dt": 1e-3, "numerics": "float"}}


def _text(ds) -> str:
    return (ds[0] if ds.shape else ds[()]).decode("ascii")


def test_h5_layers_as_netx_reads_them(tmp_path):
    from snnc.backends.netx import write_netx

    rng = np.random.default_rng(3)
    g = chain_graph(rng, H=6, W=6, pool1=2, pool2=2, k2=3, pad2=1)
    x = (rng.random((2, 4, 2, 6, 6)) < 0.4).astype(np.float32)
    compiled = compile_netx(g, x)
    doc = write_netx(compiled, tmp_path / "net.net")
    with h5py.File(tmp_path / "net.net", "r") as f:
        layers = [f["layer"][str(i)] for i in range(len(f["layer"]))]
        assert [_text(layer["type"]) for layer in layers] == ["input", "conv", "conv", "flatten", "dense"]
        assert "neuron" not in layers[0] and list(layers[0]["shape"][()]) == [2, 6, 6]
        for layer, name in zip([layers[1], layers[2], layers[4]], ["b0_lif", "b1_lif", "b2_lif"]):
            node = compiled.nodes[name]
            neuron = layer["neuron"]
            assert _text(neuron["type"]) == "CUBA"
            assert neuron["iDecay"][()] == int(node.du) + 1 == 4096  # netx: du = iDecay - 1
            assert neuron["vDecay"][()] == int(node.dv) and neuron["vThMant"][()] == int(node.vth)
            w = layer["weight"][()]
            assert np.array_equal(w, np.round(w)) and w.min() >= -256 and w.max() <= 255
        # the pool before b1_conv is fused: kernel 3·2, stride 2, padding 1·2; the dense reads the unpooled map
        assert layers[2]["weight"].shape[2:] == (6, 6) and list(layers[2]["stride"][()]) == [2, 2]
        assert list(layers[2]["padding"][()]) == [2, 2] and list(layers[3]["shape"][()]) == [4 * 3 * 3]
        assert layers[4]["weight"].shape == (5, 4 * 3 * 3)
    assert [b["fused"] for b in doc["blocks"]] == [[], ["b1_pool"], ["b2_pool"]]
    assert [b["depth"] for b in doc["blocks"]] == [1, 2, 3] and doc["depth"] == 3


def test_writer_imports_neither_torch_nor_lava(tmp_path):
    from snnc.compiler.ir.serialize import write_graph

    rng = np.random.default_rng(0)
    compiled = compile_netx(chain_graph(rng), (rng.random((1, 3, 2, 6, 6)) < 0.4).astype(np.float32))
    write_graph(tmp_path / "g.nir", compiled)
    code = ("import sys\nfrom snnc.compiler.ir.serialize import read_graph\nfrom snnc.backends.netx import write_netx\n"
            f"write_netx(read_graph({str(tmp_path / 'g.nir')!r}), {str(tmp_path / 'n.net')!r})\n"
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('lava')]\nassert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "n.net").stat().st_size > 0


def _residual() -> nir.NIRGraph:
    rng = np.random.default_rng(1)

    def conv(cin, cout):
        return nir.Conv2d(input_shape=(4, 4), weight=rng.normal(0, 1, (cout, cin, 3, 3)).astype(np.float32), stride=1,
                          padding=1, dilation=1, groups=1, bias=np.zeros(cout, np.float32))

    nodes = {"input": nir.Input(input_type=np.array([2, 4, 4])), "a_conv": conv(2, 2),
             "a_lif": lif_node((2, 4, 4), 0.7),
             "b_conv": conv(2, 2), "b_lif": lif_node((2, 4, 4), 0.7), "c_conv": conv(2, 2),
             "c_lif": lif_node((2, 4, 4), 0.7), "output": nir.Output(output_type=np.array([2, 4, 4]))}
    edges = [("input", "a_conv"), ("a_conv", "a_lif"), ("input", "b_conv"), ("b_conv", "b_lif"), ("a_lif", "c_conv"),
             ("b_lif", "c_conv"), ("c_conv", "c_lif"), ("c_lif", "output")]
    return make_graph(nodes, edges, META)


def _refused_cases():
    rng = np.random.default_rng(2)
    odd = chain_graph(rng, H=5, W=6, k1=3, pool1=2)  # a 5-row map cannot lose its pool into the next conv
    sub = chain_graph(rng)
    sub.metadata = {"snnc": {**META["snnc"], "reset": "subtract"}}
    return [(_residual(), "feeds 2 layers; NetX blocks form one chain"), (odd, "exact only when 2 divides H and W"),
            (sub, "resets by subtract")]


@pytest.mark.parametrize("case", range(3), ids=["branches", "pool-not-dividing", "subtractive-reset"])
def test_refusals_name_the_node_and_leave_no_file(tmp_path, case):
    from snnc.backends.netx import write_netx

    graph, why = _refused_cases()[case]
    x = (np.random.default_rng(0).random((1, 3) + tuple(graph.nodes["input"].input_type["input"])) < 0.4)
    compiled = compile_netx(graph, x.astype(np.float32))
    with pytest.raises(SnncError) as err:
        write_netx(compiled, tmp_path / "n.net")
    msg = str(err.value)
    assert msg.startswith("netx: ") and why in msg and "\n" not in msg and "way out" in msg
    assert not list(tmp_path.iterdir())  # nothing written, no temporary left


def test_per_step_gains_are_refused_with_the_way_out():
    """Attention at granularity (t, c) leaves a TimeGain NetX's LIF cannot apply; c folds it into the weights."""
    import torch

    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.netx import netx_of
    from snnc.compiler.compile_options import CompileOptions
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.data import load_dataset
    from snnc.frontends.torch_model import model_to_graph
    from snnc.models import build_model, demo_config

    cfg = {**demo_config("asa"), "widths": [2, 2, 2], "fc_hidden": 4, "T": 3}
    torch.manual_seed(0)
    source = model_to_graph(build_model(cfg).eval())
    calib, _ = load_dataset("synthetic", "train", 2, cfg["T"], 0)
    names = select_passes("netx", fixed_point=True)
    tc, _ = run_pipeline(source, names, pipeline_options("netx", names, fuse_asa_gains={"granularity": "tc"}),
                         context=PipelineContext(run=cpu_run, calibration=calib))
    with pytest.raises(SnncError, match=r"^netx: neuron '\w+' has a per-step input gain .*way out: --gain-gran"):
        netx_of(tc)
    netx_of(compile_netx(source, calib))  # granularity c: accepted
    for opts, flag in [({"gain_granularity": "tc"}, "--gain-granularity tc"), ({"fixed_point": False}, "--float"),
                       ({"asa_mode": "exact", "gain_granularity": "c"}, "--asa-mode exact")]:
        with pytest.raises(SnncError, match=f"^{flag}: "):
            CompileOptions(target="netx", **{"gain_granularity": "c", **opts}).validate()
    assert CompileOptions(target="netx", gain_granularity="c").pass_names()[-1] == "quantize"
    # from Python as from the CLI: without a granularity, netx and loihi2 get c, the others the default
    for target, want in (("netx", "c"), ("loihi2", "c"), ("lava", "tc"), ("cpu", "tc")):
        opts = CompileOptions(target=target)
        opts.validate()
        assert opts.gain_granularity == want, target


def test_cli_refuses_cnn_sinabs_in_one_line_and_writes_nothing(capsys, tmp_path, nir_reference):
    before = tree_state(tmp_path)
    code, out, err = run_cli(capsys, "compile", nir_reference / "02_cnn" / "cnn_sinabs.nir", "--target", "netx",
                             "--T", "3", "--calibrate", "2", "--holdout", "0", "-o", tmp_path / "art")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("snnc: error: --target netx: node ") and "resets by subtract" in err and "way out" in err
    assert tree_state(tmp_path) == before


@pytest.mark.lava
def test_cli_artifact_runs_in_lava_dl_equal_to_cpu(capsys, tmp_path):
    """``snnc compile --target netx`` -> ART/netx/network.net (listed in the manifest), loaded by lava-dl's
    netx.hdf5.Network: every block's spikes equal the CPU simulator on ART/graph.nir."""
    from snnc.artifact_manifest import verify_artifact
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.netx.runner import run_file
    from snnc.compiler.ir.serialize import read_graph
    from snnc.data import load_dataset

    import torch

    from snnc.models import build_model, demo_config
    from snnc.models.activity import scale_to_rate
    from snnc.models.checkpoint import save_checkpoint

    cfg = {**demo_config("asa"), "widths": [4, 8, 8], "fc_hidden": 16, "T": 4}
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    scale_to_rate(model, torch.as_tensor(load_dataset("synthetic", "train", 4, cfg["T"], 0)[0]))  # no silent layer
    ckpt = save_checkpoint(tmp_path / "small.pt", model, hparams={}, train_meta={})
    art = tmp_path / "art"
    code, out, err = run_cli(capsys, "compile", ckpt, "--target", "netx", "--calibrate", "4", "--holdout", "0",
                             "-o", art)
    assert code == 0, err
    verify_artifact(art)
    manifest = json.loads((art / "manifest.json").read_text())
    assert {"netx/network.net", "netx/netx.json"} <= set(manifest["files"])
    assert manifest["options"]["gain_granularity"] == "c"
    doc = json.loads((art / "netx" / "netx.json").read_text())
    x, _ = load_dataset("synthetic", "test", 2, cfg["T"], 0)
    got, classes = run_file(art / "netx" / "network.net", doc, x)
    ref = cpu_run(read_graph(art / "graph.nir"), x, timing="snnc")
    assert set(got) == set(ref.spikes) == {f"b{i}_lif" for i in range(5)}
    for name in ref.spikes:
        assert ref.spikes[name].sum() > 0, f"{name} is silent: the comparison would prove nothing"
        np.testing.assert_array_equal(got[name], ref.spikes[name], err_msg=name)
