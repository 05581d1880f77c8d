"""The sums fuse_asa_gains calibrates from: for ASA, ``window_attention.factor_sums`` forms Σ_n f_n and Σ_n f_n²
from the mask and the two spatial maps with the fused C++ kernel (models/fused_asa.py), never building the
(N, T, C, H, W) factor. Oracle: ``sample_sums`` of the factor the model itself computes (``factor`` ->
``asa_factor``), bit for bit, on random currents with ties and zero rows; and the same sums with the fused
kernels switched off (the torch path)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from passes_helpers import tiny_graph
from snnc.compiler.window_attention import factor, factor_sums, sample_sums
from snnc.models import fused_asa, fused_lif


@pytest.fixture(scope="module", autouse=True)
def _kernel_built():
    if fused_asa.extension() is None:
        pytest.fail("the fused ASA kernel did not build (see the warning)")


NODES = {T: tiny_graph("asa", seed=3, T=T).nodes["b1_attn"] for T in (4, 9)}


@settings(max_examples=40, deadline=None)
@given(T=st.sampled_from([4, 9]), n=st.integers(1, 6), h=st.integers(1, 7), w=st.integers(1, 7),
       sparsity=st.sampled_from([0.0, 0.6, 0.95]), seed=st.integers(0, 2**31 - 1))
def test_kernel_sums_equal_the_materialised_factors(T, n, h, w, sparsity, seed):
    node = NODES[T]
    c = int(node.shape[0])  # (C, H, W) of the node; the spatial size is free for ASA's 3x3 convs
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, T, c, h, w, generator=gen) * (torch.rand(n, T, c, h, w, generator=gen) >= sparsity)).numpy()
    calls = []
    original = fused_asa.factor_sums
    fused_asa.factor_sums = lambda *a: calls.append(1) or original(*a)
    try:
        s, sq = factor_sums(node, x)
    finally:
        fused_asa.factor_sums = original
    assert calls == [1]  # the kernel ran
    want_s, want_sq = sample_sums(factor(node, x).numpy())
    assert s.dtype == sq.dtype == np.float64 and s.shape == want_s.shape == (T, c, h, w)
    assert s.tobytes() == want_s.tobytes() and sq.tobytes() == want_sq.tobytes()
    with fused_lif.reference():
        off_s, off_sq = factor_sums(node, x)
    assert off_s.tobytes() == want_s.tobytes() and off_sq.tobytes() == want_sq.tobytes()


def test_sample_sums_are_numpys_row_order_sums():
    f = np.random.default_rng(0).random((7, 3, 4, 5, 5), dtype=np.float32)
    s, sq = sample_sums(f)
    f64 = f.astype(np.float64)
    assert s.tobytes() == f64.sum(axis=0).tobytes()
    assert sq.tobytes() == (f64 * f64).sum(axis=0).tobytes()
