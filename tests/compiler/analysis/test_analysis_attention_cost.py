"""Attention costs: Table S1's Δ_MAC1/Δ_MAC2 formulas written out here, and the executed multiplies
against torch's own FLOP counter running the exact factor (an independent count of every matmul/conv)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from snnc.compiler.analysis.attention_cost import cost
from snnc.compiler.window_attention import factor
from snnc.frontends import model_to_graph
from snnc.models import build_model, demo_config

CASES = [(8, 2), (12, 3), (16, 4)]  # (T, r)


def _layers(attention: str, T: int, r: int, **extra):
    from snnc.compiler.ir.shapes import infer_shapes, shape_of

    cfg = {**demo_config(attention), "T": T, "reduction": r, "t_ratio": r, "c_ratio": r, **extra}
    g = infer_shapes(model_to_graph(build_model(cfg)))
    names = [n for n in g.nodes if n.endswith("_attn")]
    assert len(names) == 3
    return [(g.nodes[n], shape_of(g, n, "output")) for n in names]


@pytest.mark.parametrize("T,r", CASES)
def test_table_s1_formulas(T, r):
    for node, (c, h, w) in _layers("asa", T, r):
        got = cost(node, (c, h, w))
        assert got["mac1"] == 2 * T * T // r + 2 * 2 * 3 * 3 * h * w and got["mac2"] == T * c * h * w
    for node, (c, h, w) in _layers("ta", T, r):
        assert cost(node, (c, h, w))["mac1"] == 2 * T * (T // r)
    for node, (c, h, w) in _layers("ca", T, r):
        assert cost(node, (c, h, w))["mac1"] == T * 2 * c * (c // r)
    for node, (c, h, w) in _layers("sa", T, r, sa_kernel=7):
        assert cost(node, (c, h, w))["mac1"] == T * 2 * 7 * 7 * h * w
    for node, (c, h, w) in _layers("tcsa", T, r):
        got = cost(node, (c, h, w))
        assert got["mac1"] == 2 * T * (T // r) + T * 2 * c * (c // r) + T * 2 * 3 * 3 * h * w
        assert got["mac2"] == 3 * T * c * h * w  # one scaling per attention dimension


@pytest.mark.parametrize("T,r", CASES)
@pytest.mark.parametrize("spec", ["asa", "asa:eca", "ta", "ca", "sa", "tcsa"])
def test_executed_mac1_equals_torch_flop_counter(spec, T, r):
    kind, _, excitation = spec.partition(":")
    extra = {"excitation": excitation} if excitation else {}
    for node, shape in _layers(kind, T, r, **extra):
        x = torch.randn(1, T, *shape)
        with FlopCounterMode(display=False) as counter:
            factor(node, x)
        assert cost(node, shape)["executed_mac1"] == counter.get_total_flops() // 2
