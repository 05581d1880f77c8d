"""The fused ASA training kernels (models/fused_asa.py) against the torch graph of asa_factor they replace.

Float tolerance: none. Outputs, input gradients and the gradients of the two spatial convs are asserted equal
bit for bit (``torch.equal``), the oracle being ``x * asa_factor(x, ...)`` differentiated by autograd
(:func:`snnc.models.fused_lif.reference` switches the fused kernels off). Trained weights of a whole ASA
network are compared byte for byte in tests/models/test_fused_lif_grad.py.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.models import fused_asa, fused_lif
from snnc.models.asa import ASA


@pytest.fixture(scope="module", autouse=True)
def _kernel_built():
    if fused_asa.extension() is None:
        pytest.fail("the fused ASA kernel did not build (see the warning)")


def _run(module: ASA, x: torch.Tensor, upstream: torch.Tensor, reference: bool):
    x = x.detach().clone().requires_grad_(True)
    module.zero_grad(set_to_none=True)
    if reference:
        with fused_lif.reference():
            assert not fused_asa.applies(x)
            y = module(x)
    else:
        assert fused_asa.applies(x)
        y = module(x)
    y.backward(upstream)
    return y.detach(), x.grad, module.conv1.weight.grad, module.conv2.weight.grad


def _assert_same_bits(module: ASA, x: torch.Tensor, upstream: torch.Tensor) -> None:
    ref = _run(module, x, upstream, reference=True)
    fused = _run(module, x, upstream, reference=False)
    for what, a, b in zip(("output", "x.grad", "conv1.grad", "conv2.grad"), ref, fused):
        assert torch.equal(a, b), what


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), t=st.integers(2, 9), c=st.integers(1, 6), h=st.integers(1, 6), w=st.integers(1, 6),
       lam=st.sampled_from([0.5, 0.25, 0.75, 0.3]), reduction=st.sampled_from([1, 2]),
       sparsity=st.sampled_from([0.0, 0.5, 0.9]), seed=st.integers(0, 2**31 - 1))
def test_fused_asa_gives_autograds_bits(n, t, c, h, w, lam, reduction, sparsity, seed):
    """Random windows, masks (ties included: sparse inputs give many equal maxima and zero rows), fractions."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    module = ASA(t, c, reduction=reduction if t // reduction >= 1 else 1, lam=lam)
    x = torch.randn(n, t, c, h, w, generator=gen) * (torch.rand(n, t, c, h, w, generator=gen) >= sparsity)
    upstream = torch.randn(n, t, c, h, w, generator=gen)
    _assert_same_bits(module, x, upstream)


def test_layer_sized_window_is_exact_and_the_gradients_are_not_trivial():
    torch.manual_seed(3)
    module = ASA(20, 16)
    x = torch.relu(torch.randn(4, 20, 16, 12, 12))
    upstream = torch.randn_like(x)
    _assert_same_bits(module, x, upstream)
    _, grad_x, g1, g2 = _run(module, x, upstream, reference=False)
    assert grad_x.abs().sum() > 0 and g1.abs().sum() > 0 and g2.abs().sum() > 0


def test_autograds_bits_on_one_and_on_two_threads():
    """The kernels split work over (sample, row), so x's gradient is the same on any thread count; torch's own
    conv-weight gradient is not (the reference differs between 1 and 2 threads too), so each thread count is
    compared with the reference on that count."""
    torch.manual_seed(4)
    module = ASA(12, 8)
    x, upstream = torch.randn(3, 12, 8, 9, 9), torch.randn(3, 12, 8, 9, 9)
    before = torch.get_num_threads()
    try:
        fused = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            _assert_same_bits(module, x, upstream)
            fused.append(_run(module, x, upstream, reference=False))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(fused[0][0], fused[1][0]) and torch.equal(fused[0][1], fused[1][1])


def test_evaluation_and_float64_keep_the_torch_graph():
    module = ASA(4, 3)
    x = torch.randn(2, 4, 3, 5, 5)
    with torch.no_grad():
        assert torch.equal(module(x), x * module.factor(x))
    assert not fused_asa.applies(x.double())
