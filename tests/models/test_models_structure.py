"""The structural contract the graph exporter relies on: blocks, attributes, records, config."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from snnc.errors import SnncError
from snnc.models import MODEL_NAMES, build_model, demo_config
from snnc.models.asa import ASA
from snnc.models.blocks import ConvBlock, FCBlock, ResidualBlock
from snnc.models.lif import LIF, PLIF

TINY = {
    "lif-snn-3": {"T": 4, "widths": [4, 4, 4], "fc_hidden": 8, "num_classes": 3, "input_size": [8, 8], "reduction": 2},
    "lif-snn-5": {"T": 4, "widths": [4] * 5, "fc_hidden": 8, "num_classes": 3, "input_size": [32, 32]},
    "res-snn-18": {"T": 4, "widths": [4, 4, 8, 8], "num_classes": 3, "input_size": [32, 32]},
}


def tiny(name, attention="asa"):
    return build_model({"model": name, "attention": attention, **TINY[name]}).eval()


def test_lif_snn3_matches_the_released_layout():
    m = build_model({"model": "lif-snn-3", "T": 60})
    kinds = [type(b) for b in m.blocks]
    assert kinds == [ConvBlock] * 3 + [FCBlock] * 2
    assert [b.conv.out_channels for b in m.blocks[:3]] == [64, 128, 128]
    assert all(b.conv.bias is not None and isinstance(b.bn, nn.BatchNorm2d) for b in m.blocks[:3])
    assert m.blocks[0].pool is None and all(isinstance(b.pool, nn.AvgPool2d) for b in m.blocks[1:3])
    assert all(isinstance(b.attn, ASA) and b.attn.reduction == 4 for b in m.blocks[:3])
    assert m.blocks[3].flatten and m.blocks[3].fc.in_features == 8192 and m.blocks[3].fc.out_features == 256
    assert m.blocks[4].fc.out_features == 11 and m.readout == "mean"
    assert all(b.lif.beta == pytest.approx(0.3) and b.lif.v_th == pytest.approx(0.3) for b in m.blocks)
    assert sum(b.attn.fc1.weight.numel() + b.attn.fc2.weight.numel() + 38 for b in m.blocks[:3]) == 3 * 1838
    # parameter counts of the released network (asa-snn.md §3.1)
    assert [sum(p.numel() for p in b.conv.parameters()) for b in m.blocks[:3]] == [1216, 73856, 147584]
    assert [sum(p.numel() for p in b.fc.parameters()) for b in m.blocks[3:]] == [2097408, 2827]
    small_t = build_model({"model": "lif-snn-3", "T": 2, "attention": "none"}).eval()
    with torch.no_grad():
        rec = small_t.forward_record(torch.zeros(1, 2, 2, 32, 32))
    assert sum(s[0, 0].numel() for s in small_t.spiking_layers(rec).values()) == 106763


def test_lif_snn5_layout():
    m = tiny("lif-snn-5")
    assert m.readout == ("vote", 10) and m.blocks[-1].fc.out_features == 30
    assert m.blocks[0].inpool is None and all(isinstance(b.inpool, nn.MaxPool2d) for b in m.blocks[1:6])
    assert all(b.conv.bias is None for b in m.blocks[:5])
    assert all(isinstance(b.lif, PLIF) for b in m.blocks)
    assert all(b.attn.fc2 is None for b in m.blocks[:5])  # r = 1


def test_res_snn18_layout():
    m = tiny("res-snn-18")
    res = [b for b in m.blocks if isinstance(b, ResidualBlock)]
    assert len(res) == 8 and isinstance(m.blocks[0], ConvBlock) and isinstance(m.blocks[-1], FCBlock)
    assert [b.down is not None for b in res] == [False, False, True, False, True, False, True, False]
    assert isinstance(res[0].inpool, nn.MaxPool2d) and m.blocks[0].conv.kernel_size == (7, 7)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_record_keys_and_rates(name):
    m = tiny(name)
    c = m.config
    x = (torch.rand(2, c["T"], 2, *c["input_size"]) < 0.3).float()
    with torch.no_grad():
        rec = m.forward_record(x)
        rates = m(x)
    assert torch.equal(rec["rates"], rates) and rates.shape == (2, 3)
    for i, block in enumerate(m.blocks):
        assert f"b{i}" in rec and rec[f"b{i}"].shape[:2] == (2, c["T"])
        if isinstance(block, ResidualBlock):
            shortcut = rec[f"b{i}_down"] if block.down is not None else None
            if shortcut is not None:
                assert torch.equal(rec[f"b{i}"], rec[f"b{i}_conv2"] + shortcut)
            assert set(rec[f"b{i}"].unique().tolist()) <= {0.0, 1.0, 2.0}
        else:
            assert set(rec[f"b{i}"].unique().tolist()) <= {0.0, 1.0}
            assert isinstance(block.lif, LIF)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_eval_is_deterministic_and_rebuild_from_config(name):
    torch.manual_seed(0)
    m = tiny(name)
    clone = build_model(m.config).eval()
    clone.load_state_dict(m.state_dict())
    c = m.config
    x = (torch.rand(1, c["T"], 2, *c["input_size"]) < 0.3).float()
    with torch.no_grad():
        assert torch.equal(m(x), m(x)) and torch.equal(m(x), clone(x))


def test_dropout_only_in_training_and_shared_over_time():
    m = build_model({**demo_config("none"), "dropout": 0.5})
    drop = m.blocks[3].drop_in
    x = torch.ones(3, 8, 10)
    drop.train()
    y = drop(x)
    assert torch.equal(y, y[:, :1].expand_as(y))  # one mask per sample, reused over T
    drop.eval()
    assert torch.equal(drop(x), x)


def test_config_round_trips_and_is_complete():
    m = build_model(demo_config("asa"))
    assert set(m.config) >= {"model", "attention", "T", "in_channels", "input_size", "num_classes", "widths"}
    assert build_model(m.config).config == m.config


@pytest.mark.parametrize("config, message", [
    ({"model": "lif-snn-9"}, "unknown model; valid names: lif-snn-3, lif-snn-5, res-snn-18"),
    ({"model": "lif-snn-3", "T": 0}, "T: must be a positive integer"),
    ({"model": "lif-snn-3", "T": -3}, "T: must be a positive integer"),
    ({"model": "lif-snn-3", "attention": "magic"}, "unknown; valid: none, asa"),
    ({"model": "lif-snn-3", "colour": 1}, "unknown config keys"),
    ({"model": "lif-snn-3", "widths": [4, 4]}, "needs 3 conv widths"),
])
def test_bad_configs_raise_snnc_error(config, message):
    with pytest.raises(SnncError, match=message.replace("(", r"\(")):
        build_model(config)


@pytest.mark.parametrize("attention", ["none", "asa"])
def test_eval_sample_is_independent_of_batch_mates(attention):
    """Per-sample ASA masks + BN running statistics: a sample's spikes do not depend on its batch."""
    torch.manual_seed(0)
    m = build_model(demo_config(attention)).eval()
    x = (torch.rand(4, 8, 2, 32, 32) < 0.2).float() * 2
    with torch.no_grad():
        batched = m.forward_record(x)
        for i in range(4):
            alone = m.forward_record(x[i:i + 1])
            for key in batched:
                torch.testing.assert_close(alone[key], batched[key][i:i + 1], rtol=0, atol=1e-6)
