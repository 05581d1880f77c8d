"""Every third-party NIR reference graph loads into the IR with the right shapes."""

from __future__ import annotations

import nir
import numpy as np
import pytest

from snnc.compiler.analysis import analyze, totals
from snnc.frontends import load_graph

GRAPHS = ["01_lif/lif_norse.nir", "01_lif/two_lif_neurons.nir", "02_cnn/cnn_sinabs.nir",
          "03_rnn/braille_noDelay_bias_zero.nir", "03_rnn/braille_noDelay_noBias_subtract.nir"]


@pytest.mark.parametrize("name", GRAPHS)
def test_reference_graph_loads_with_parameters_intact(nir_reference, name):
    path = nir_reference / name
    g = load_graph(path)
    stock = nir.read(str(path), type_check=False)
    assert sorted(g.nodes) == sorted(stock.nodes) and sorted(g.edges) == sorted(stock.edges)
    for n, node in stock.nodes.items():
        for field in ("weight", "bias", "tau", "tau_mem", "tau_syn", "r", "v_threshold", "w_in"):
            if hasattr(node, field):
                assert np.array_equal(getattr(g.nodes[n], field), getattr(node, field)), (n, field)


def test_cnn_sinabs_shapes(nir_reference):
    g = load_graph(nir_reference / "02_cnn" / "cnn_sinabs.nir")
    rows = {r.name: r for r in analyze(g)}
    assert totals(list(rows.values()))["compute_nodes"] == 13
    assert rows["input"].output_shape == (2, 34, 34) and rows["output"].input_shape == (10,)
    expected = {"0": (16, 16, 16), "2": (16, 16, 16), "4": (16, 8, 8), "5": (8, 8, 8), "7": (8, 4, 4),
                "8": (128,), "9": (256,), "11": (10,)}
    stock = nir.read(str(nir_reference / "02_cnn" / "cnn_sinabs.nir"))  # NIR's own inference as the oracle
    for n, shape in expected.items():
        assert rows[n].output_shape == shape == tuple(stock.nodes[n].output_type["output"])
