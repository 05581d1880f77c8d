"""Per-layer FLOPs, parameter and neuron counts against independent oracles: torch's own
FlopCounterMode, and the released LIF-SNN-3 sizes (asa-snn notes §3.1, counted from the released code)."""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from snnc.compiler.analysis import analyze, layer_flops, totals
from snnc.compiler.ir import make_graph
from snnc.frontends import model_to_graph
from snnc.models import build_model


@pytest.fixture(scope="module")
def released_size_graph():
    torch.manual_seed(0)
    return model_to_graph(build_model({"model": "lif-snn-3", "attention": "asa"}).eval())  # T 60, r 4, 64/128/128


def test_released_lif_snn3_counts(released_size_graph):
    rows = {r.name: r for r in analyze(released_size_graph)}
    assert [rows[f"b{i}_conv"].params for i in range(3)] == [1216, 73856, 147584]
    assert [rows["b3_fc"].params, rows["b4_fc"].params] == [2097408, 2827]
    assert [rows[f"b{i}_attn"].params for i in range(3)] == [1838] * 3  # per ASA at T = 60, r = 4
    assert totals(list(rows.values()))["neurons"] == 106763
    assert [rows[f"b{i}_lif"].neurons for i in range(3)] == [65536, 32768, 8192]
    assert rows["b1_conv"].inputs_from == ["b0_lif"] and rows["b0_conv"].inputs_from == ["input"]
    assert rows["b3_fc"].inputs_from == ["b2_lif"]


def test_flops_equal_torch_flop_counter():
    model = build_model({"model": "lif-snn-3", "attention": "none"}).eval()
    flops = layer_flops(model_to_graph(model))
    x = torch.zeros(1, 2, 32, 32)
    for i in range(3):
        conv = model.blocks[i].conv
        with FlopCounterMode(display=False) as counter:
            y = conv(x)
        assert flops[f"b{i}_conv"] == counter.get_total_flops() // 2  # torch counts 2 FLOPs per MAC
        x = torch.zeros(1, *y.shape[1:]) if i == 0 else torch.nn.functional.avg_pool2d(y, 2)
    for i in (3, 4):
        fc = model.blocks[i].fc
        with FlopCounterMode(display=False) as counter:
            fc(torch.zeros(1, fc.in_features))
        assert flops[f"b{i}_fc"] == counter.get_total_flops() // 2


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(1, 2),
       st.integers(0, 2), st.integers(6, 12))
def test_grouped_conv_flops_equal_torch(groups, cin_g, cout_g, k, stride, pad, size):
    conv = torch.nn.Conv2d(groups * cin_g, groups * cout_g, k, stride, pad, groups=groups)
    node = nir.Conv2d(input_shape=None, weight=conv.weight.detach().numpy(), stride=stride, padding=pad, dilation=1,
                      groups=groups, bias=conv.bias.detach().numpy())
    g = make_graph({"input": nir.Input(input_type=np.array([groups * cin_g, size, size])), "c": node,
                    "output": nir.Output(output_type={"output": None})}, [("input", "c"), ("c", "output")])
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, groups * cin_g, size, size))
    assert layer_flops(g)["c"] == counter.get_total_flops() // 2
