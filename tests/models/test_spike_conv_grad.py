"""The event-driven conv weight gradient (models/spike_conv.py) against torch's own convolution gradients.

Oracles: ``torch.nn.grad.conv2d_weight`` in float64 (the exact sum, to ~1e-16) and autograd's float32
``F.conv2d`` backward. Float tolerance: the kernel sums the n = F·H_out·W_out products of a weight entry in
another order than mkldnn, so it is held to the textbook bound of recursive float32 summation,
|dW − dW_exact| ≤ (n + 1)·2⁻²⁴·Σ|x·g| (one rounding per add, one per product of non-binary inputs), where
Σ|x·g| is the float64 gradient of |x| and |g|; autograd's own float32 result is checked against the same
bound, so the bound is the one torch meets. A wrong tap, stride or channel would miss it by orders of
magnitude. Everything else is asserted bit for bit: the forward, the input gradient, the dense fallback, and
the kernel's result for 1 and 2 threads.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snnc.models import demo_config, spike_conv
from snnc.data import load_dataset
from snnc.train import train_model


@pytest.fixture(scope="module", autouse=True)
def _kernel_built():
    if spike_conv.extension() is None:
        pytest.fail("the event-driven weight-gradient kernel did not build (see the warning)")


def _frames(gen, shape, density, kind):
    x = (torch.rand(shape, generator=gen) < density).float()
    if kind == "counts":  # event counts, as conv1 reads them
        x = x * torch.randint(1, 5, shape, generator=gen).float()
    elif kind == "dropout":  # spikes after TimeDropout(0.1)
        x = x / 0.9
    return x


def _bound(x, g, weight_shape, stride, padding, dilation):
    terms = g.shape[0] * g.shape[2] * g.shape[3]
    magnitude = torch.nn.grad.conv2d_weight(x.abs().double(), weight_shape, g.abs().double(), stride, padding,
                                            dilation)
    return (terms + 1) * 2.0 ** -24 * magnitude


geometry = st.fixed_dictionaries({
    "frames": st.integers(1, 7), "c_in": st.integers(1, 9), "c_out": st.sampled_from([1, 5, 8, 64, 70, 128]),
    "size": st.integers(3, 12), "k": st.sampled_from([1, 2, 3, 5]), "stride": st.integers(1, 3),
    "padding": st.integers(0, 2), "dilation": st.integers(1, 2),
    "density": st.sampled_from([0.0, 0.02, 0.1, 0.3]), "kind": st.sampled_from(["binary", "counts", "dropout"]),
})


@settings(max_examples=120, deadline=None)
@given(geo=geometry, seed=st.integers(0, 2**31 - 1))
def test_weight_grad_within_the_float32_summation_bound(geo, seed):
    k, s, p, d = geo["k"], geo["stride"], geo["padding"], geo["dilation"]
    if geo["size"] + 2 * p < d * (k - 1) + 1:
        return  # no output position
    gen = torch.Generator().manual_seed(seed)
    x = _frames(gen, (geo["frames"], geo["c_in"], geo["size"], geo["size"]), geo["density"], geo["kind"])
    w = torch.randn(geo["c_out"], geo["c_in"], k, k, generator=gen)
    out = F.conv2d(x, w, None, s, p, d)
    g = torch.randn(out.shape, generator=gen)
    event = spike_conv.extension().weight_grad(x, g, k, k, [s, s], [p, p], [d, d], 1.0)
    exact = torch.nn.grad.conv2d_weight(x.double(), w.shape, g.double(), s, p, d)
    autograd = torch.nn.grad.conv2d_weight(x, w.shape, g, s, p, d)
    bound = _bound(x, g, w.shape, s, p, d)
    assert event.shape == w.shape and event.dtype == torch.float32
    assert bool(((autograd.double() - exact).abs() <= bound).all())  # the bound torch itself meets
    assert bool(((event.double() - exact).abs() <= bound).all())
    if geo["density"] == 0.0:
        assert not event.any()


def test_too_dense_inputs_are_left_to_the_dense_gradient():
    gen = torch.Generator().manual_seed(1)
    x = _frames(gen, (3, 4, 8, 8), 0.6, "binary")
    g = torch.randn(3, 8, 8, 8, generator=gen)
    assert spike_conv.extension().weight_grad(x, g, 3, 3, [1, 1], [1, 1], [1, 1], spike_conv.MAX_DENSITY) is None


def test_result_is_the_same_for_one_and_two_threads():
    gen = torch.Generator().manual_seed(2)
    x = _frames(gen, (37, 16, 16, 16), 0.15, "dropout")
    g = torch.randn(37, 64, 16, 16, generator=gen)
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            results.append(spike_conv.extension().weight_grad(x, g, 3, 3, [1, 1], [1, 1], [1, 1], 1.0))
    finally:
        torch.set_num_threads(before)
    assert results[0].numpy().tobytes() == results[1].numpy().tobytes()


def _conv_grads(conv, x, g, event):
    conv.zero_grad()
    x = x.clone().requires_grad_(True)
    with spike_conv.event_weight_grad(event):
        y = spike_conv.conv2d(conv, x)
    y.backward(g)
    return y.detach(), x.grad, conv.weight.grad.clone(), conv.bias.grad.clone()


@pytest.mark.parametrize("density", [0.1, 0.6])
def test_conv_forward_and_input_gradient_equal_autograd_bit_for_bit(density):
    torch.manual_seed(3)
    conv = nn.Conv2d(6, 16, 3, padding=1)
    gen = torch.Generator().manual_seed(3)
    x = _frames(gen, (10, 6, 12, 12), density, "binary")
    g = torch.randn(10, 16, 12, 12, generator=gen)
    y0, gx0, gw0, gb0 = _conv_grads(conv, x, g, event=False)
    y1, gx1, gw1, gb1 = _conv_grads(conv, x, g, event=True)
    assert spike_conv.applies(conv, x) is False  # outside the block
    assert y0.numpy().tobytes() == y1.numpy().tobytes()
    assert gx0.numpy().tobytes() == gx1.numpy().tobytes()
    assert torch.allclose(gb0, gb1, rtol=1e-5, atol=1e-5)
    if density > spike_conv.MAX_DENSITY:  # the dense fallback is autograd's own kernel
        assert gw0.numpy().tobytes() == gw1.numpy().tobytes()
    else:
        exact = torch.nn.grad.conv2d_weight(x.double(), conv.weight.shape, g.double(), 1, 1)
        assert bool(((gw1.double() - exact).abs() <= _bound(x, g, conv.weight.shape, 1, 1, 1)).all())


def test_training_is_bit_reproducible_in_both_modes_and_event_mode_engages():
    config = dict(demo_config("asa"), T=4)
    train = load_dataset("synthetic", "train", 24, 4, 0)
    test = load_dataset("synthetic", "test", 8, 4, 0)
    runs = {mode: [train_model(config, train, test, epochs=1, batch_size=8, lr=5e-4, seed=0, weight_grad=mode)
                   for _ in range(2)] for mode in ("exact", "event")}
    for mode, (a, b) in runs.items():
        sa, sb = a.model.state_dict(), b.model.state_dict()
        assert all(sa[k].numpy().tobytes() == sb[k].numpy().tobytes() for k in sa), mode
    exact, event = runs["exact"][0].model.state_dict(), runs["event"][0].model.state_dict()
    conv_weights = [k for k in exact if k.endswith("conv.weight")]
    assert conv_weights and any(not torch.equal(exact[k], event[k]) for k in conv_weights)  # it did engage


def test_unknown_weight_grad_is_refused():
    with pytest.raises(ValueError, match="weight_grad"):
        train_model(dict(demo_config("none"), T=2), load_dataset("synthetic", "train", 2, 2, 0),
                    load_dataset("synthetic", "test", 2, 2, 0), epochs=1, batch_size=2, lr=1e-3, seed=0,
                    weight_grad="fast")
