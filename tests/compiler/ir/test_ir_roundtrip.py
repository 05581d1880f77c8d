"""Checkpoint -> IR -> .nir -> IR is lossless for every snnc model (vanilla and ASA)."""

from __future__ import annotations

import re

import nir
import numpy as np
import torch

from ir_graph_equality import assert_graphs_identical
from snnc.compiler.ir import read_graph, verify, write_graph
from snnc.frontends import load_graph, model_to_graph

FIELDS = {  # IR field -> module attribute holding the same values
    "Conv2d": {"weight": "weight", "bias": "bias"},
    "Affine": {"weight": "weight", "bias": "bias"},
    "BatchNorm": {"running_mean": "running_mean", "running_var": "running_var", "weight": "weight", "bias": "bias"},
    "ASA": {"alpha": "alpha", "gamma": "gamma", "fc1": "fc1.weight", "fc2": "fc2.weight", "eca": "eca.weight",
            "conv1": "conv1.weight", "conv2": "conv2.weight"},
    "MultiDimAttention": {"time_fc1": "time_fc1.weight", "time_fc2": "time_fc2.weight",
                          "channel_fc1": "channel_fc1.weight", "channel_fc2": "channel_fc2.weight",
                          "spatial": "spatial.weight"},
}
ROLE_TO_MODULE = {"conv": "conv", "fc": "fc", "bn": "bn", "attn": "attn"}


def _module_for(model, node_name: str):
    m = re.match(r"^b(\d+)_(?:(conv1|conv2|down)_)?(conv|fc|bn|attn)$", node_name)
    if not m:
        return None
    block = model.blocks[int(m.group(1))]
    if m.group(2):
        block = getattr(block, m.group(2))
    return getattr(block, ROLE_TO_MODULE[m.group(3)])


def _attr(module, path: str):
    for part in path.split("."):
        module = getattr(module, part)
        if module is None:
            return None
    return module


def test_ir_holds_the_model_parameters_bit_identically(tiny):
    name, attention, model = tiny
    g = model_to_graph(model)
    verify(g)
    checked = 0
    for node_name, node in g.nodes.items():
        kind = type(node).__name__
        module = _module_for(model, node_name)
        if kind not in FIELDS:
            continue
        assert module is not None, node_name
        for field, path in FIELDS[kind].items():
            value = _attr(module, path)
            ir = getattr(node, field)
            if value is None:  # conv without bias -> zeros; ASA r = 1 -> empty fc2
                assert not np.any(ir), (node_name, field)
                continue
            expected = value.detach().numpy()
            if field == "eca":  # Conv1d weight (1, 1, k) is stored as the kernel (k,)
                expected = expected.reshape(-1)
            assert ir.dtype == np.float32 and ir.shape == expected.shape
            assert ir.tobytes() == expected.astype(np.float32).tobytes(), (node_name, field)
            checked += 1
    n_params = sum(1 for _ in model.parameters())
    assert checked >= n_params - sum(1 for n, _ in model.named_parameters() if n.endswith(".w"))  # PLIF w excluded
    kinds = {type(n).__name__ for n in g.nodes.values()}
    assert ("ASA" in kinds) == attention.startswith("asa")
    assert ("MultiDimAttention" in kinds) == (attention in ("ta", "ca", "sa", "tcsa"))


def test_lif_nodes_carry_the_model_beta_and_gain(tiny):
    _, _, model = tiny
    g = model_to_graph(model)
    lifs = {n: node for n, node in g.nodes.items() if isinstance(node, nir.LIF)}
    assert lifs
    for n, node in lifs.items():
        module = model.blocks[int(n[1:].split("_")[0])]
        part = re.match(r"^b\d+_(conv1|conv2|down)_lif$", n)
        if part:
            module = getattr(module, part.group(1))
        lif = module.lif
        meta = node.metadata["snnc"]
        assert meta["beta"] == np.float32(lif.beta) and meta["gain"] == np.float32(lif.gain)
        assert np.all(node.v_threshold == np.float32(lif.v_th)) and np.all(node.v_reset == 0)
        assert node.tau.shape == tuple(node.input_type["input"])  # per neuron, never 0-d


def test_checkpoint_nir_roundtrip_is_lossless(tiny, tmp_path):
    name, attention, model = tiny
    from snnc.models.checkpoint import save_checkpoint

    ckpt = tmp_path / "model.pt"
    save_checkpoint(ckpt, model, hparams={}, train_meta={})
    g = load_graph(ckpt)
    assert_graphs_identical(g, model_to_graph(model))
    out = tmp_path / "model.nir"
    write_graph(out, g)
    g2 = read_graph(out)
    assert_graphs_identical(g, g2)
    verify(g2)
    assert g2.metadata["snnc"]["model"] == model.config
    stock = nir.read(str(out))  # stock NIR (with its own type checks) opens files with extensions
    assert sorted(stock.nodes) == sorted(g.nodes)
    assert_graphs_identical(load_graph(out), g2)  # the .nir goes through the same frontend


def test_the_model_output_is_unchanged_by_export():
    """The graph is a snapshot: walking the model does not modify it (eval mode, same outputs)."""
    from ir_tiny_models import tiny_model

    model = tiny_model("lif-snn-3", "asa")
    x = torch.rand(2, 4, 2, 16, 16)
    before = model(x)
    model_to_graph(model)
    assert torch.equal(before, model(x))
