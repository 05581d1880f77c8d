"""Fidelity statistics and readout against hand-computed values; a graph compared with itself agrees fully."""

from __future__ import annotations

import numpy as np
import pytest

from passes_helpers import tiny_frames, tiny_graph
from snnc.compiler.fidelity import layer_agreement, measure, readout_rates
from snnc.backends.cpu import run as cpu_run


def test_layer_agreement_by_hand():
    ref = np.zeros((2, 3, 2))
    out = np.zeros((2, 3, 2))
    ref[0, 0, 0] = ref[0, 1, 0] = ref[1, 2, 1] = 1  # counts: n0 [2, 0], n1 [0, 1]
    out[0, 2, 0] = out[0, 1, 0] = 1                  # counts: n0 [2, 0], n1 [0, 0]
    d = layer_agreement(ref, out)
    assert d["spikes_ref"] == 3 and d["spikes"] == 2 and d["rel_diff"] == pytest.approx(-1 / 3)
    assert d["step_agreement"] == pytest.approx(9 / 12)   # differ at (0,0,0), (0,2,0), (1,2,1)
    assert d["count_agreement"] == pytest.approx(3 / 4)


def test_vote_readout_groups_neurons():
    g = tiny_graph("none")
    g.metadata = {"snnc": {**g.metadata["snnc"], "readout": {"kind": "vote", "group": 2}}}
    out = np.zeros((1, 2, 4))
    out[0, :, 2] = 1  # neuron 2 -> class 1
    np.testing.assert_allclose(readout_rates(g, out), [[0.0, 0.5]])


def test_graph_against_itself():
    pytest.importorskip("snnc.backends.cpu")
    g = tiny_graph("asa")
    labels = np.arange(3) % 4
    res = measure(g, g, tiny_frames(3), labels, run=cpu_run)
    assert res["prediction_agreement"] == 1.0 and res["accuracy"] == res["accuracy_ref"]
    assert all(d["step_agreement"] == 1.0 and d["rel_diff"] == 0.0 for d in res["layers"].values())
