"""A state_dict with the released ASA-SNN (BICLab/ASA-SNN models/Net.py) key names imports into the
same IR as snnc's lif-snn-3, with the same weights (spatial axes transposed as documented), and the
graph's network on transposed frames computes what the released network computes on its own frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snnc.compiler.ir import verify
from snnc.frontends import model_to_graph
from snnc.frontends.released import released_state_dict, released_to_graph
from snnc.models import build_model
from snnc.models.asa import asa_factor

T, R, WIDTHS, IN_HW, FC_HIDDEN, CLASSES = 6, 2, (4, 8, 8), 16, 16, 5


def released_sd(seed: int = 0, attention: bool = True) -> dict[str, torch.Tensor]:
    """Random tensors under the released network's state_dict keys (arch A, ASA, r = 2)."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    sd: dict[str, torch.Tensor] = {}
    cin = 2
    for i, c in enumerate(WIDTHS):
        p = f"ConvAttLIFs.{i}"
        sd[f"{p}.conv.module.weight"] = rnd(c, cin, 3, 3) * 0.5
        sd[f"{p}.conv.module.bias"] = rnd(c) * 0.1
        sd[f"{p}.bn.module.weight"] = 1 + 0.1 * rnd(c)
        sd[f"{p}.bn.module.bias"] = 0.1 * rnd(c)
        sd[f"{p}.bn.module.running_mean"] = 0.1 * rnd(c)
        sd[f"{p}.bn.module.running_var"] = 0.5 + torch.rand(c, generator=g)
        sd[f"{p}.bn.module.num_batches_tracked"] = torch.tensor(100)
        if attention:
            sd[f"{p}.attn.alpha"] = torch.tensor([0.5])
            sd[f"{p}.attn.beta"] = torch.tensor([0.5])
            sd[f"{p}.attn.fc.0.weight"] = rnd(T // R, T)
            sd[f"{p}.attn.fc.2.weight"] = rnd(T, T // R)
            sd[f"{p}.attn.conv1.weight"] = rnd(1, 2, 3, 3)
            sd[f"{p}.attn.conv2.weight"] = rnd(1, 2, 3, 3)
            for k, shape in (("alpha", (1,)), ("beta", (1,)), ("fc.weight", (1, 1)), ("conv1.weight", (1, 2, 3, 3)),
                             ("conv2.weight", (1, 2, 3, 3))):  # the unused nested ASA(T=1) of IFCell
                sd[f"{p}.spike.module.attn.{k}"] = rnd(*shape)
        cin = c
    feat = WIDTHS[2] * (IN_HW // 4) ** 2
    sd["FCs.0.linear.module.weight"] = rnd(FC_HIDDEN, feat) * 0.1
    sd["FCs.0.linear.module.bias"] = rnd(FC_HIDDEN) * 0.1
    sd["FCs.1.linear.module.weight"] = rnd(CLASSES, FC_HIDDEN) * 0.3
    sd["FCs.1.linear.module.bias"] = rnd(CLASSES) * 0.1
    return sd


def released_forward(sd, x_txy: torch.Tensor) -> torch.Tensor:
    """Independent re-statement of the released forward on frames (N, T, P, X, Y), per-sample ASA,
    IFCell U = 0.3 U (1 - S) + X, S = [U >= 0.3]. Returns output spikes (N, T, classes)."""
    def lif(cur):
        u, out = torch.zeros_like(cur[:, 0]), []
        for t in range(cur.shape[1]):
            u = u + cur[:, t]
            s = (u >= 0.3).float()
            out.append(s)
            u = 0.3 * (u * (1 - s))
        return torch.stack(out, 1)

    h = x_txy
    for i in range(3):
        p = f"ConvAttLIFs.{i}"
        n, t = h.shape[:2]
        z = F.conv2d(h.flatten(0, 1), sd[f"{p}.conv.module.weight"], sd[f"{p}.conv.module.bias"], padding=1)
        z = F.batch_norm(z, sd[f"{p}.bn.module.running_mean"], sd[f"{p}.bn.module.running_var"],
                         sd[f"{p}.bn.module.weight"], sd[f"{p}.bn.module.bias"], training=False, eps=1e-5)
        if i > 0:
            z = F.avg_pool2d(z, 2)
        z = z.reshape(n, t, *z.shape[1:])
        z = z * asa_factor(z, sd[f"{p}.attn.alpha"], sd[f"{p}.attn.beta"], sd[f"{p}.attn.fc.0.weight"],
                           sd[f"{p}.attn.fc.2.weight"], sd[f"{p}.attn.conv1.weight"], sd[f"{p}.attn.conv2.weight"])
        h = lif(z)
    h = h.flatten(2)
    h = lif(F.linear(h, sd["FCs.0.linear.module.weight"], sd["FCs.0.linear.module.bias"]))
    return lif(F.linear(h, sd["FCs.1.linear.module.weight"], sd["FCs.1.linear.module.bias"]))


def model_from_graph(g) -> torch.nn.Module:
    """An snnc lif-snn-3 holding the graph's weights (to run the graph with PyTorch)."""
    model = build_model(g.metadata["snnc"]["model"]).eval()
    t = lambda a: torch.from_numpy(np.array(a))  # noqa: E731
    with torch.no_grad():
        for i in range(3):
            blk, conv, bn, attn = model.blocks[i], g.nodes[f"b{i}_conv"], g.nodes[f"b{i}_bn"], g.nodes[f"b{i}_attn"]
            blk.conv.weight.copy_(t(conv.weight)), blk.conv.bias.copy_(t(conv.bias))
            for k in ("running_mean", "running_var", "weight", "bias"):
                getattr(blk.bn, k).copy_(t(getattr(bn, k)))
            blk.attn.alpha.copy_(t(attn.alpha)), blk.attn.gamma.copy_(t(attn.gamma))
            blk.attn.fc1.weight.copy_(t(attn.fc1)), blk.attn.fc2.weight.copy_(t(attn.fc2))
            blk.attn.conv1.weight.copy_(t(attn.conv1)), blk.attn.conv2.weight.copy_(t(attn.conv2))
        for i in (3, 4):
            model.blocks[i].fc.weight.copy_(t(g.nodes[f"b{i}_fc"].weight))
            model.blocks[i].fc.bias.copy_(t(g.nodes[f"b{i}_fc"].bias))
    return model


def test_released_keys_map_to_the_snnc_lif_snn3_graph():
    sd = released_sd()
    g = released_to_graph(sd)
    verify(g)
    snnc_graph = model_to_graph(build_model(g.metadata["snnc"]["model"]).eval())
    assert set(g.nodes) == set(snnc_graph.nodes) and sorted(g.edges) == sorted(snnc_graph.edges)
    cfg = g.metadata["snnc"]["model"]
    assert (cfg["T"], cfg["reduction"], cfg["widths"], cfg["input_size"]) == (T, R, list(WIDTHS), [IN_HW, IN_HW])
    n = lambda k: sd[k].numpy()  # noqa: E731
    for i in range(3):
        p = f"ConvAttLIFs.{i}"
        assert np.array_equal(g.nodes[f"b{i}_conv"].weight, n(f"{p}.conv.module.weight").transpose(0, 1, 3, 2))
        assert np.array_equal(g.nodes[f"b{i}_conv"].bias, n(f"{p}.conv.module.bias"))
        for k in ("running_mean", "running_var", "weight", "bias"):
            assert np.array_equal(getattr(g.nodes[f"b{i}_bn"], k), n(f"{p}.bn.module.{k}"))
        a = g.nodes[f"b{i}_attn"]
        assert np.array_equal(a.fc1, n(f"{p}.attn.fc.0.weight")) and np.array_equal(a.fc2, n(f"{p}.attn.fc.2.weight"))
        assert np.array_equal(a.conv1, n(f"{p}.attn.conv1.weight").transpose(0, 1, 3, 2))
        assert np.array_equal(a.gamma, n(f"{p}.attn.beta"))
        assert g.nodes[f"b{i}_lif"].metadata["snnc"]["beta"] == np.float32(0.3)
    w1 = n("FCs.0.linear.module.weight").reshape(FC_HIDDEN, WIDTHS[2], 4, 4)
    assert np.array_equal(g.nodes["b3_fc"].weight.reshape(FC_HIDDEN, WIDTHS[2], 4, 4), w1.transpose(0, 1, 3, 2))
    assert np.array_equal(g.nodes["b4_fc"].weight, n("FCs.1.linear.module.weight"))


def test_graph_on_transposed_frames_computes_the_released_network():
    sd = released_sd(seed=1)
    g = released_to_graph(sd)
    x = (torch.rand(2, T, 2, IN_HW, IN_HW, generator=torch.Generator().manual_seed(2)) < 0.3).float() * 2
    expected = released_forward(sd, x)
    rec = model_from_graph(g).forward_record(x.transpose(3, 4).contiguous())
    assert expected.sum() > 0
    assert torch.equal(rec["b4"], expected)


@pytest.mark.parametrize("wrap", ["raw", "state_dict", "model", "net", "module."])
def test_wrapped_and_prefixed_state_dicts_are_accepted(wrap):
    sd = released_sd(attention=False)
    obj = {f"module.{k}": v for k, v in sd.items()} if wrap == "module." else sd if wrap == "raw" else {wrap: sd}
    found = released_state_dict(obj)
    assert found is not None and sorted(found) == sorted(sd)
    g = released_to_graph(found, T=T)
    assert g.metadata["snnc"]["model"]["attention"] == "none" and "b0_attn" not in g.nodes
    verify(g)


def test_released_pt_file_loads_through_load_graph(tmp_path):
    from snnc.frontends import load_graph

    sd = released_sd(seed=3)
    torch.save({"net": {f"module.{k}": v for k, v in sd.items()}}, tmp_path / "released.pth")
    g = load_graph(tmp_path / "released.pth")
    ref = released_to_graph(sd)
    assert sorted(g.nodes) == sorted(ref.nodes)
    for name, node in ref.nodes.items():
        for field in ("weight", "bias", "fc1", "conv1", "running_var"):
            if hasattr(node, field):
                assert np.array_equal(getattr(g.nodes[name], field), getattr(node, field)), (name, field)
