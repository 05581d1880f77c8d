"""The parameter counts of every attention module equal the supplement's Table S1 formulas.

Table S1 (per layer; written out here, independently of snnc.compiler.analysis.attention_cost):
TA N·(2·T·⌊T/r_t⌋), CA Σ 2·c·⌊c/r_c⌋, SA N·(2·k·k) (the table prints k = 7; the released code uses 3),
ASA N·(2T²/r + 2·2·3·3). Table S1 omits ASA's two scalars α, γ, and its 2T²/r counts the two-layer
excitation, so it holds for r ≥ 2 dividing T; at r = 1 the released module has one T×T layer (T²).
"""

from __future__ import annotations

import pytest

from snnc.models.asa import ASA
from snnc.models.ma_attention import MultiDimAttention

SIZES = [(8, 8), (20, 16), (60, 64), (60, 128), (30, 24)]


def count(m) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("T,C", SIZES)
@pytest.mark.parametrize("r_t", [2, 4, 5, 16])
def test_ta(T, C, r_t):
    if T // r_t < 1:
        pytest.skip("⌊T/r_t⌋ = 0: the released module cannot be built")
    assert count(MultiDimAttention(T, C, "t", t_ratio=r_t)) == 2 * T * (T // r_t)


@pytest.mark.parametrize("T,C", SIZES)
@pytest.mark.parametrize("r_c", [2, 4, 8, 16])
def test_ca(T, C, r_c):
    if C // r_c < 1:
        pytest.skip("⌊C/r_c⌋ = 0")
    assert count(MultiDimAttention(T, C, "c", c_ratio=r_c)) == 2 * C * (C // r_c)


@pytest.mark.parametrize("T,C", SIZES)
@pytest.mark.parametrize("k", [3, 7])
def test_sa(T, C, k):
    assert count(MultiDimAttention(T, C, "s", kernel_size=k)) == 2 * k * k


@pytest.mark.parametrize("T,C", SIZES)
def test_tcsa_is_the_sum_of_its_three_rows(T, C):
    r_t, r_c = 5, 8
    want = 2 * T * (T // r_t) + 2 * C * (C // r_c) + 2 * 3 * 3
    assert count(MultiDimAttention(T, C, "tcs", t_ratio=r_t, c_ratio=r_c)) == want


@pytest.mark.parametrize("T,C", SIZES)
@pytest.mark.parametrize("r", [2, 4])
def test_asa_mlp(T, C, r):
    if T % r:
        pytest.skip("Table S1's 2T²/r is an integer count only when r divides T")
    m = ASA(T, C, reduction=r)
    assert count(m) - 2 == 2 * T * T // r + 2 * 2 * 3 * 3  # minus α, γ


@pytest.mark.parametrize("T,C", SIZES)
def test_asa_r1_has_one_layer_not_two(T, C):
    assert count(ASA(T, C, reduction=1)) - 2 == T * T + 2 * 2 * 3 * 3


@pytest.mark.parametrize("T,C", SIZES)
@pytest.mark.parametrize("squeeze", ["s7", "s8"])
def test_asa_squeeze_ablations_have_no_alpha_gamma(T, C, squeeze):
    assert count(ASA(T, C, reduction=2, squeeze=squeeze)) == 2 * T * (T // 2) + 2 * 2 * 3 * 3


@pytest.mark.parametrize("T,C", SIZES)
def test_asa_excitation_ablations(T, C):
    import math

    k = int(abs((math.log2(T) + 1) / 2))
    k = k if k % 2 else k + 1  # ECA's odd kernel rule
    assert count(ASA(T, C, excitation="eca")) - 2 == k + 2 * 2 * 3 * 3
    assert count(ASA(T, C, excitation="simam")) - 2 == 2 * 2 * 3 * 3
