"""The simulator's float spikes equal the PyTorch model's bit for bit, in every layer of every family.

Oracle: ``model.forward_record`` (the snnc PyTorch networks, exact ASA via ``asa_factor``, exact TA/CA/SA/TCSA
via ``ma_factor``; the ASA ablations are covered in tests/experiment).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.backends.cpu import run
from snnc.frontends import model_to_graph

FAMILIES = ("lif-snn-3", "lif-snn-5", "res-snn-18")


def _model_spikes(model, x):
    with torch.no_grad():
        rec = model.forward_record(x)
    return {f"{k}_lif": v.numpy() for k, v in model.spiking_layers(rec).items()}, rec["rates"].numpy()


@pytest.mark.parametrize("attention", ["asa", "none", "ta", "ca", "sa", "tcsa"])
@pytest.mark.parametrize("family", FAMILIES)
def test_spikes_equal_model_in_every_layer(tiny_model, family, attention):
    new = attention not in ("asa", "none")
    model, x = tiny_model(family, attention, seed=1 if new else 0)
    want, rates = _model_spikes(model, x)
    res = run(model_to_graph(model), x.numpy())
    assert set(want) <= set(res.spikes)
    active = 0
    for name, s in want.items():
        assert np.array_equal(res.spikes[name], s), name
        active += s.any()
    # every layer fires, so equality is not vacuous (MA-SNN attention, with its ReLU on the currents,
    # silences some deep layers of the random tiny nets whatever the rescaling: there, half of them)
    assert active == len(want) if not new else (active >= len(want) / 2 and next(iter(want.values())).any())
    assert res.numerics == "float" and res.extras["schedule"] == "layer"


def test_schedules_chunks_and_memory_layout_agree(tiny_model):
    """Chunked fused chains, channels_last and the step-by-step schedule give identical spikes."""
    from snnc.backends.cpu.simulator import Plan, check_input
    from snnc.backends.cpu.stepwise import run_steps

    model, x = tiny_model("lif-snn-3", "none")
    g = model_to_graph(model)
    ref = run(g, x.numpy())
    for kwargs in ({"chunk_frames": 1}, {"channels_last": True}):
        other = run(g, x.numpy(), **kwargs)
        assert all(np.array_equal(ref.spikes[k], other.spikes[k]) for k in ref.spikes)
    for timing in ("snnc", "lava"):
        plan = Plan(g, timing, None, None, False)
        layered = run(g, x.numpy(), timing=timing)
        stepped = run_steps(plan, check_input(plan, x.numpy()), False, None)
        assert all(np.array_equal(layered.spikes[k], stepped.spikes[k]) for k in layered.spikes), timing


@pytest.mark.parametrize("family", FAMILIES)
def test_sample_chunks_keep_asa_exact(tiny_model, family):
    """Conv chains and neurons run sample by sample with chunk_frames=1: still the model's spikes."""
    model, x = tiny_model(family, "asa")
    want, _ = _model_spikes(model, x)
    res = run(model_to_graph(model), x.numpy(), chunk_frames=1)
    assert all(np.array_equal(res.spikes[k], v) for k, v in want.items())


def test_lava_timing_delays_each_connection(tiny_model):
    """Under lava timing a layer d connections deep sees input frame t − d: feeding a window whose
    first d frames are empty must give the snnc spikes of the shifted window (no biases: zero them)."""
    model, x = tiny_model("lif-snn-3", "none")
    g = model_to_graph(model)
    for node in g.nodes.values():
        if hasattr(node, "bias") and type(node).__name__ in ("Conv2d", "Affine"):
            node.bias = np.zeros_like(node.bias)
        if type(node).__name__ == "BatchNorm":
            node.bias = np.zeros_like(node.bias)
            node.running_mean = np.zeros_like(node.running_mean)
    lava = run(g, x.numpy(), timing="lava")
    snnc = run(g, x.numpy(), timing="snnc")
    T = x.shape[1]
    for d, name in enumerate(["b0_lif", "b1_lif", "b2_lif"], start=1):
        assert np.array_equal(lava.spikes[name][:, d:], snnc.spikes[name][:, :T - d]), name
        assert not lava.spikes[name][:, :d].any()


def test_deterministic(tiny_model):
    model, x = tiny_model("res-snn-18", "asa")
    g = model_to_graph(model)
    a, b = run(g, x.numpy()), run(g, x.numpy())
    assert all(np.array_equal(a.spikes[k], b.spikes[k]) for k in a.spikes)
    assert np.array_equal(a.output, b.output)
