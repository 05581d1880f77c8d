"""The analytic model reproduces the supplement's formulas (Eqs. S1–S4, Tables S1–S2) on LIF-SNN-3 at the
paper's size (T = 60, 2×32×32, widths 64/128/128, FC 8192→256→11, ASA r = 4), worked out by hand below.

Table S2 FLOPs with h, w = the conv's own output (before the AvgPool; energy notes §1.7):
  L1 3·3·32·32·2·64    =  1,179,648 (MAC layer)
  L2 3·3·32·32·64·128  = 75,497,472
  L3 3·3·16·16·128·128 = 37,748,736
  FC1 8192·256 = 2,097,152;   FC2 256·11 = 2,816
Chosen rates (exact binary fractions): Φ0 = 0.25; vanilla LASFR b0..b3 = 0.125, 0.0625, 0.5, 0.25;
ASA model LASFR = half of those: 0.0625, 0.03125, 0.25, 0.125.
  E_Base = 4.6·60·1,179,648·0.25 + 0.9·60·(75,497,472·0.125 + 37,748,736·0.0625 + 2,097,152·0.5 + 2,816·0.25)
         = 4.6·17,694,720 + 0.9·60·12,845,760 = 81,395,712 + 693,671,040 = 775,066,752 pJ
  Δ_MAC  = 3·(2·60²/4) + 36·(32² + 16² + 8²) + 60·(65,536 + 32,768 + 8,192) = 5,400 + 48,384 + 6,389,760 = 6,443,544
  Δ_AC   = 60·(75,497,472·0.0625 + 37,748,736·0.03125 + 2,097,152·0.25 + 2,816·0.125) = 60·6,422,880 = 385,372,800
  ΔE     = 4.6·6,443,544 − 0.9·385,372,800 = 29,640,302.4 − 346,835,520 = −317,195,217.6 pJ
  r_REC  = −317,195,217.6 / 775,066,752 = −0.4092489...
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.compiler.analysis.counts import Counter
from snnc.compiler.analysis.energy import compare_to_baseline, energy_report
from snnc.frontends import model_to_graph
from snnc.models import build_model

PAPER = dict(model="lif-snn-3", T=60, in_channels=2, input_size=[32, 32], num_classes=11, widths=[64, 128, 128],
             fc_hidden=256, reduction=4, dropout=0.0)


def _counter(attention: str, rates: list[float]) -> tuple:
    g = model_to_graph(build_model(dict(PAPER, attention=attention)).eval())
    c = Counter(g)
    c.samples, c.T = 1, 60
    c.input_nonzero, c.input_elements = 0.25, 1.0
    for i, r in enumerate(rates):
        lay = c.layers[f"b{i}_lif"]
        lay.spikes = r * 60 * lay.neurons
    return g, c


def test_eq_s1_to_s4_by_hand():
    torch.manual_seed(0)
    g0, c0 = _counter("none", [0.125, 0.0625, 0.5, 0.25, 0.0])
    g1, c1 = _counter("asa", [0.0625, 0.03125, 0.25, 0.125, 0.0])
    base, model = energy_report(g0, c0), energy_report(g1, c1)
    flops = {r["name"]: r["flops"] for r in base["layers"]}
    assert flops == {"b0_conv": 1_179_648, "b1_conv": 75_497_472, "b2_conv": 37_748_736, "b3_fc": 2_097_152,
                     "b4_fc": 2_816}
    assert [r["op_analytic"] for r in base["layers"]] == ["MAC", "AC", "AC", "AC", "AC"]
    assert base["totals"]["analytic_mac"] == 17_694_720
    assert base["totals"]["analytic_ac"] == 60 * 12_845_760
    assert base["totals"]["energy_base_pj"] == pytest.approx(775_066_752, rel=1e-12)
    assert model["totals"]["attention_mac_table_s1"] == 6_443_544
    cmp = compare_to_baseline(model, base)
    assert cmp["delta_mac"] == 6_443_544
    assert cmp["delta_ac"] == 385_372_800
    assert cmp["delta_e_pj"] == pytest.approx(-317_195_217.6, rel=1e-12)
    assert cmp["r_rec"] == pytest.approx(-317_195_217.6 / 775_066_752, rel=1e-12)
    assert cmp["r_rec"] == pytest.approx(-0.4092489, abs=1e-7)


def test_ratio_factors_multiply_to_ratio(nir_reference):
    """cnn_sinabs.nir (2×34×34) simulates and reports energy; analytic/measured = rate · padding · spatial."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler.analysis.counts import measure
    from snnc.frontends import load_graph

    g = load_graph(str(nir_reference / "02_cnn" / "cnn_sinabs.nir"))
    x = (np.random.default_rng(0).random((2, 8, 2, 34, 34)) < 0.15).astype(np.float32)
    counter, out = measure(g, x, batch=1, run=cpu_run)
    rep = energy_report(g, counter)
    assert [r["kind"] for r in rep["layers"]] == ["Conv2d", "Conv2d", "Conv2d", "Affine", "Affine"]
    assert out.shape == (2, 8, 10)
    for r in rep["layers"]:
        if r["measured_ops"]:
            assert r["ratio"] == pytest.approx(r["rate_factor"] * r["padding_factor"] * r["spatial_factor"], rel=1e-9)
        assert r["padding_factor"] >= 1.0
    # the first conv (5x5 stride 2 on 34x34) has its own FL/FL_valid, Σ of the exact fan-out map
    first = rep["layers"][0]
    assert first["fl_valid"] == counter.synapses[first["name"]].fanout.sum().item()
    assert rep["totals"]["energy_measured_pj"] > 0 and rep["totals"]["neuron_updates"] == 8 * 8970
