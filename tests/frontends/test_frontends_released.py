"""The released ASA-SNN code (BICLab/ASA-SNN @ c68b2d0) is the oracle for its own checkpoints.

tests/data/released/ holds reference cases the released modules themselves produced
(tests/data/released/regenerate.py, run by hand in a scratch venv with spikingjelly 0.0.0.0.14): the
key list and shapes of ``model.state_dict()``, a portable seeded weight recipe, event-count inputs in
the released layout [S, T, P, X, Y], and the released eval-mode spike counts per layer, timestep and
channel, plus the output rates. Here the state_dict is rebuilt from the recipe under the released keys
(and under every accepted wrapper), loaded by snnc's frontend, and simulated with the cpu backend's
exact float ASA: counts and rates must be equal, not close.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from released_cases import CASES, DATA, compare_counts, load_case, output_rates, simulate
from snnc.backends.registry import get_backend
from snnc.frontends.released import released_to_graph


def _ties(name: str) -> list[list[int]]:
    return json.loads((DATA / f"{name}.json").read_text())["expected"]["topk_ties"]


#: cases with a sample free of top-k ties / with a tied sample / with a tie after the first ASA layer
CLEAN = [c for c in CASES if not all(_ties(c))]
TIED = [c for c in CASES if any(_ties(c))]
TIED_LATE = [c for c in TIED if any(t and min(t) > 0 for t in _ties(c))]


def test_default_frame_layouts():
    """ASA-SNN's loaders: [T, P, X, Y] (transposed); LIF-SNN-5 at 128x128 = spikingjelly's [T, P, Y, X]."""
    for name, transposed in (("lif3_asa", True), ("lif3d_asa", True), ("lif5_asa", False), ("lif5_vanilla", False)):
        g = released_to_graph(load_case(name)[1])
        assert g.metadata["snnc"]["released"]["transposed"] is transposed, name


def test_the_fixtures_are_there():
    assert {"lif3_asa", "lif3_asa_r1", "lif3_vanilla", "lif3d_asa", "lif3d_asa_r8", "lif5_asa",
            "lif5_vanilla"} <= set(CASES)
    assert sum(not t for c in CASES for t in _ties(c)) >= 10  # samples compared in full
    assert TIED and TIED_LATE  # the tie cases below run


@pytest.mark.parametrize("name", CASES)
def test_released_keys_are_the_sequential_form_spikingjelly_writes(name):
    _, sd, _ = load_case(name)
    assert all(".module." not in k for k in sd)
    if name.startswith("lif3"):
        assert "ConvAttLIFs.0.conv.0.weight" in sd and "FCs.0.linear.0.weight" in sd
        if "asa" in name:
            assert "ConvAttLIFs.0.attn.conv1.weight" in sd and "ConvAttLIFs.0.spike.0.attn.conv1.weight" in sd
    else:
        assert "ConvAttLIFs.0.0.conv.0.weight" in sd and "FCs.0.1.spike.0.w" in sd


@pytest.mark.parametrize("layout", [None, "TPXY", "TPYX"])
@pytest.mark.parametrize("name", CLEAN)
def test_snnc_equals_the_released_code_spike_for_spike(name, layout):
    """Every sample whose released ASA scores have no tie at a top-k boundary: all layers, every
    (t, channel) count, and the output rates, exactly; with the default frame layout and with either
    explicit one (frames transposed accordingly: the result does not depend on it)."""
    case, sd, x = load_case(name)
    g = released_to_graph(sd, where=name, T=case["input_shape_TPXY"][0], frame_layout=layout)
    res = simulate(g, x)
    clean = [s for s, t in enumerate(case["expected"]["topk_ties"]) if not t]
    assert compare_counts(name, case, g, res, clean, lambda s, n: range(n)) > 0
    rates = output_rates(g, res.output)
    for s in clean:
        assert rates[s].tolist() == case["expected"]["rates"][s], (name, s)


@pytest.mark.parametrize("name", TIED_LATE)
def test_layers_before_a_topk_tie_agree(name):
    """Where the released scores tie at a top-k boundary (a channel whose ReLU-ed excitation is all
    zero ranks T equal zeros), torch.topk picks the tied entries in an unspecified order and snnc
    takes the lower index (models/asa.py). Every layer before the first tied one still agrees exactly."""
    case, sd, x = load_case(name)
    ties = case["expected"]["topk_ties"]
    tied = [s for s in range(case["samples"]) if ties[s] and min(ties[s]) > 0]
    g = released_to_graph(sd, where=name, T=case["input_shape_TPXY"][0])
    res = simulate(g, x)
    assert compare_counts(name, case, g, res, tied, lambda s, n: range(min(ties[s]))) > 0


def test_orientation_is_a_real_transpose():
    """Fed untransposed released frames, the transposing graph disagrees with the released code (the
    X/Y handling is exercised, not symmetric by accident); a "TPYX" graph of the spatially transposed
    weights holds exactly the transposing graph's kernels."""
    case, sd, x = load_case("lif3_vanilla")
    g = released_to_graph(sd)
    wrong = get_backend("cpu").run(g, x)
    counts = wrong.spikes["b0_lif"][0].reshape(x.shape[1], -1).sum(-1)
    expected = np.sum(case["expected"]["counts"][0]["L0"], axis=1)
    assert counts.tolist() != expected.tolist()
    g_yx = released_to_graph({k: (v.transpose(-1, -2) if v.ndim == 4 else v) for k, v in sd.items()},
                             frame_layout="TPYX")
    assert not g_yx.metadata["snnc"]["released"]["transposed"]
    assert np.array_equal(g_yx.nodes["b0_conv"].weight, g.nodes["b0_conv"].weight)


@pytest.mark.parametrize("name", ["lif3_asa", "lif3_vanilla", "lif3d_asa", "lif5_asa", "lif5_vanilla"])
def test_released_graph_has_the_nodes_edges_and_shapes_of_the_snnc_model(name):
    """The graph of a released checkpoint is the graph of the snnc network its config describes
    (docs/design.md §3.1): same node names, edges, node kinds and output shapes."""
    from snnc.frontends import model_to_graph
    from snnc.models import build_model

    case, sd, _ = load_case(name)
    g = released_to_graph(sd, T=case["input_shape_TPXY"][0])
    ours = model_to_graph(build_model(g.metadata["snnc"]["model"]).eval())
    assert sorted(g.nodes) == sorted(ours.nodes) and sorted(g.edges) == sorted(ours.edges)
    assert g.metadata["snnc"]["readout"] == ours.metadata["snnc"]["readout"]
    for n, node in g.nodes.items():
        assert type(node) is type(ours.nodes[n]), n
        for field in ("weight", "shape", "fc1", "fc2", "conv1", "running_mean"):
            if isinstance(getattr(node, field, None), np.ndarray):
                assert getattr(node, field).shape == getattr(ours.nodes[n], field).shape, (n, field)


@pytest.mark.parametrize("name", TIED)
def test_with_torch_topk_tie_order_even_tied_samples_agree(name, monkeypatch):
    """The top-k tie rule is the whole difference: with snnc's tie rule replaced, for this test only, by
    the released code's own call (``torch.topk``, whose order among equal scores is unspecified but
    reproducible on one build), every sample agrees exactly, tied ones included."""
    import snnc.models.asa as asa

    case, sd, x = load_case(name)

    def torch_topk_mask(scores: torch.Tensor, k: int, dim: int) -> torch.Tensor:
        mask = torch.zeros_like(scores, dtype=torch.float32)
        return mask if k <= 0 else mask.scatter_(dim, torch.topk(scores, k, dim=dim).indices, 1.0)

    monkeypatch.setattr(asa, "topk_mask", torch_topk_mask)
    g = released_to_graph(sd, where=name, T=case["input_shape_TPXY"][0])
    res = simulate(g, x)
    assert compare_counts(name, case, g, res, range(case["samples"]), lambda s, n: range(n)) > 0
    assert output_rates(g, res.output).tolist() == case["expected"]["rates"]
