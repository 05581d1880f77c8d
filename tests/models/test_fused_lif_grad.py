"""The fused LIF training kernel (models/fused_lif.py) against the autograd loop it replaces.

Float tolerance: none. The kernel does autograd's float32 operations in autograd's order, so spikes, input
gradients and trained weights are asserted equal bit for bit (``torch.equal`` / identical bytes); a single
ulp of difference anywhere fails these tests.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.data import load_dataset
from snnc.models import demo_config, fused_lif
from snnc.models.lif import LIF, PLIF
from snnc.train import train_model


@pytest.fixture(scope="module", autouse=True)
def _kernel_built():
    if fused_lif.extension() is None:
        pytest.fail("the fused LIF kernel did not build (see the warning)")


def _grads(lif: LIF, x: torch.Tensor, upstream: torch.Tensor, reference: bool) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().clone().requires_grad_(True)
    spikes = lif.reference_forward(x) if reference else lif(x)
    spikes.backward(upstream)
    return spikes.detach(), x.grad


floats32 = st.floats(-1.0, 2.0, width=32)
shapes = st.tuples(st.integers(1, 3), st.integers(1, 12)).flatmap(
    lambda nt: st.lists(st.integers(1, 5), min_size=0, max_size=3).map(lambda rest: (*nt, *rest)))
upstream_values = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -0.25, 3.0, 1e-3])


@settings(max_examples=150, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1),
       beta=st.floats(0.0, 0.9375, width=32), v_th=st.floats(0.015625, 1.5, width=32),
       gain=st.sampled_from([1.0, 0.5, 0.37, 1.3]), width=st.sampled_from([0.25, 0.1, 0.3, 0.5, 1.0 / 3.0]),
       dense_grad=st.booleans(), data=st.data())
def test_fused_forward_and_backward_equal_autograd(shape, seed, beta, v_th, gain, width, dense_grad, data):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=gen) * 2 * v_th - 0.3 * v_th
    if dense_grad:
        upstream = torch.randn(shape, generator=gen)
    else:  # signed zeros and a few repeated values: the sign of zero must survive the fused arithmetic too
        picks = data.draw(st.lists(upstream_values, min_size=1, max_size=8))
        idx = torch.randint(0, len(picks), shape, generator=gen)
        upstream = torch.tensor(picks, dtype=torch.float32)[idx]
    lif = LIF(beta=beta, v_th=v_th, gain=gain, surrogate_width=width)
    s_ref, g_ref = _grads(lif, x, upstream, reference=True)
    s_new, g_new = _grads(lif, x, upstream, reference=False)
    assert torch.equal(s_new, s_ref)
    assert g_new.numpy().tobytes() == g_ref.numpy().tobytes()


def test_layer_sized_gradients_are_exact_and_nontrivial():
    """A conv-layer-shaped case: many neurons near threshold, so the surrogate window and the reset path
    both carry gradient (the assertion would fail on any dropped term)."""
    x = torch.rand(4, 20, 8, 6, 6) * 0.7
    upstream = torch.randn(4, 20, 8, 6, 6)
    lif = LIF(beta=0.3, v_th=0.3)
    s_ref, g_ref = _grads(lif, x, upstream, reference=True)
    s_new, g_new = _grads(lif, x, upstream, reference=False)
    assert 0.05 < float(s_ref.mean()) < 0.95 and float((g_ref != 0).float().mean()) > 0.3
    assert torch.equal(s_new, s_ref) and torch.equal(g_new, g_ref)


def test_channels_last_frames_and_strided_views_give_the_same_bits():
    frames = torch.rand(3 * 7, 5, 4, 4).to(memory_format=torch.channels_last) * 0.8
    x = frames.reshape(3, 7, 5, 4, 4)  # (N, T, C, H, W) with channels_last frames: used in place
    assert not x.is_contiguous() and fused_lif._frames(x) is not None
    strided = torch.rand(3, 7, 10, 4)[:, :, ::2]  # not dense: copied first
    assert fused_lif._frames(strided) is None
    lif = LIF(beta=0.5, v_th=0.4)
    for inp in (x, strided):
        upstream = torch.randn(inp.shape)
        s_ref, g_ref = _grads(lif, inp.contiguous(), upstream, reference=True)
        s_new, g_new = _grads(lif, inp, upstream, reference=False)
        assert torch.equal(s_new, s_ref) and torch.equal(g_new.contiguous(), g_ref)


def test_fused_kernel_gives_the_same_bits_on_one_and_two_threads():
    x = torch.rand(5, 16, 1100) * 0.6  # 1100 neurons: three work blocks per sample
    upstream = torch.randn(5, 16, 1100)
    lif = LIF(beta=0.3, v_th=0.3)
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            results.append(_grads(lif, x, upstream, reference=False))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


def _train(attention: str, reference: bool, seed: int = 1):
    cfg = {**demo_config(attention), "T": 6, "widths": [4, 8, 8], "fc_hidden": 24, "dropout": 0.1}
    train = load_dataset("synthetic", "train", 48, 6, seed)
    test = load_dataset("synthetic", "test", 8, 6, seed)
    assert fused_lif.enabled()
    with fused_lif.reference() if reference else contextlib.nullcontext():
        result = train_model(cfg, train, test, epochs=2, batch_size=16, lr=5e-3, seed=seed)
    return {k: v.numpy().tobytes() for k, v in result.model.state_dict().items()}, result


@pytest.mark.parametrize("attention", ["none", "asa"])
def test_trained_weights_equal_the_autograd_reference(attention):
    """6 Adam steps (2 epochs of 3 batches, dropout on): every parameter and BN buffer, byte for byte."""
    fused, res_f = _train(attention, reference=False)
    ref, res_r = _train(attention, reference=True)
    assert fused.keys() == ref.keys()
    assert [k for k in fused if fused[k] != ref[k]] == []
    assert res_f.test_accuracy == res_r.test_accuracy and res_f.mean_firing_rate == res_r.mean_firing_rate
    initial = {k: v.numpy().tobytes() for k, v in _initial_state(attention).items()}
    assert fused["blocks.0.conv.weight"] != initial["blocks.0.conv.weight"]  # training moved the weights


def _initial_state(attention: str) -> dict:
    from snnc.models.registry import build_model

    torch.manual_seed(1)
    return build_model({**demo_config(attention), "T": 6, "widths": [4, 8, 8], "fc_hidden": 24, "dropout": 0.1}
                       ).state_dict()


def test_training_is_bit_reproducible_on_two_threads():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        a, _ = _train("asa", reference=False, seed=2)
        b, _ = _train("asa", reference=False, seed=2)
    finally:
        torch.set_num_threads(before)
    assert a == b


def test_plif_keeps_the_autograd_loop():
    p = PLIF()
    x = (torch.rand(2, 6, 5) * 3).requires_grad_(True)
    p(x).sum().backward()
    assert p.w.grad is not None and float(p.w.grad.abs()) > 0  # the fused kernel has no gradient for w


def test_a_failing_build_warns_once_and_falls_back(tmp_path):
    """In a fresh process with its own extension cache and a missing source: one warning, the autograd loop."""
    code = """
import warnings
import torch
from snnc.models import fused_lif
from snnc.models.lif import LIF
assert fused_lif.KERNEL.state["ext"] is None and not fused_lif.KERNEL.state["failed"]
fused_lif.KERNEL.source = fused_lif.KERNEL.source.with_name("missing.cpp")
fused_lif.KERNEL.stem = "snnc_lif_train_missing_test"
lif, x = LIF(beta=0.3, v_th=0.3), (torch.rand(2, 5, 3) * 0.6).requires_grad_(True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    a, b = lif(x), lif(x)
assert sum("fused LIF training kernel unavailable" in str(c.message) for c in caught) == 1, caught
ref = lif.reference_forward(x)
assert torch.equal(a, ref) and torch.equal(b, ref) and a.grad_fn is not None
print("ok")
"""
    env = {"TORCH_EXTENSIONS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
