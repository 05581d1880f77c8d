"""verify() names the offending node; topological order tolerates recurrence; copies are deep."""

from __future__ import annotations

import copy

import nir
import numpy as np
import pytest

from ir_tiny_models import tiny_model
from snnc.compiler.ir import (TimeGain, check_supported, copy_graph, infer_shapes, make_graph, read_graph,
                              timegain_depth, topological_order, verify)
from snnc.errors import UnsupportedNodeError, VerifyError
from snnc.frontends import model_to_graph


@pytest.fixture(scope="module")
def asa_graph():
    return model_to_graph(tiny_model("lif-snn-3", "asa"))


def _broken(g, fn):
    g = copy_graph(g)
    fn(g)
    return g


def test_valid_graph_passes(asa_graph):
    verify(asa_graph)


@pytest.mark.parametrize("mutate,match", [
    (lambda g: g.edges.append(("b0_lif", "nowhere")), "node 'nowhere' does not exist"),
    (lambda g: g.edges.append(("b0_conv", "b0_bn")), "appears twice"),
    (lambda g: g.nodes.update(extra=nir.Input(input_type=np.array([1]))), "exactly one Input"),
    (lambda g: setattr(g.nodes["b1_conv"], "weight", np.zeros((16, 3, 3, 3), np.float32)),
     "'b1_conv'.*channels"),
    (lambda g: setattr(g.nodes["b3_fc"], "bias", np.zeros(5, np.float32)), "'b3_fc'.*bias"),
    (lambda g: setattr(g.nodes["b0_lif"], "tau", g.nodes["b0_lif"].tau[:1]), "'b0_lif'.*tau has shape"),
    (lambda g: g.nodes["b1_lif"].metadata["snnc"].update(beta=np.float32(0.31)), "'b1_lif'.*beta"),
    (lambda g: setattr(g.nodes["b0_bn"], "running_mean", np.zeros(3, np.float32)), "'b0_bn'"),
    (lambda g: setattr(g.nodes["b1_attn"], "T", 5), "'b1_attn'.*T = 5"),
    (lambda g: setattr(g.nodes["b1_attn"], "k_c", 3), "'b1_attn'.*k_c"),
    (lambda g: g.nodes.update(b4_fc=nir.Affine(weight=np.zeros((3, 7), np.float32), bias=np.zeros(3, np.float32))),
     "'b4_fc'.*expects input"),
])
def test_verify_names_the_offending_node(asa_graph, mutate, match):
    with pytest.raises(VerifyError, match=match):
        verify(_broken(asa_graph, mutate))


def test_unsupported_kinds_are_refused_with_the_supported_list(asa_graph):
    g = copy_graph(asa_graph)
    g.nodes["b3_lif"] = nir.Threshold(threshold=np.zeros(16, np.float32))
    with pytest.raises(UnsupportedNodeError, match=r"'b3_lif' has unsupported type Threshold; supported: Input, "):
        check_supported(g)
    with pytest.raises(UnsupportedNodeError):
        verify(g)


def _timegain_graph(branch_conv: bool):
    """input -> conv -> lif -> {affine (| conv2 -> flatten? )} summed -> timegain -> lif."""
    z = lambda *s: np.zeros(s, np.float32)  # noqa: E731
    nodes = {
        "input": nir.Input(input_type=np.array([4])),
        "a1": nir.Affine(weight=z(4, 4), bias=z(4)),
        "a2": nir.Affine(weight=z(4, 4), bias=z(4)),
        "tg": TimeGain(gain=np.ones((3, 4), np.float32)),
        "lif": nir.LIF(tau=z(4) + 1e-3, r=z(4) + 1, v_leak=z(4), v_threshold=z(4) + 1, v_reset=z(4)),
        "output": nir.Output(output_type=np.array([4])),
    }
    edges = [("input", "a1"), ("a1", "tg"), ("tg", "lif"), ("lif", "output")]
    edges += [("input", "a2"), ("a2", "tg")] if not branch_conv else [("a1", "a2"), ("a2", "tg")]
    return make_graph(nodes, edges, {"snnc": {"T": 3}})


def test_timegain_depth_must_be_unambiguous_under_lava_timing():
    verify(_timegain_graph(branch_conv=False))  # both paths cross one Affine
    assert timegain_depth(_timegain_graph(False), "tg") == 1
    verify(_timegain_graph(branch_conv=True))  # fine without synaptic delays (snnc timing) ...
    with pytest.raises(VerifyError, match=r"'tg'.*ambiguous delay depth.*\[1, 2\]"):
        timegain_depth(_timegain_graph(branch_conv=True), "tg")  # ... but no source step under Lava timing


def test_topological_order_tolerates_recurrent_cycles(nir_reference):
    g = read_graph(nir_reference / "03_rnn" / "braille_noDelay_bias_zero.nir")
    order = topological_order(g)
    assert sorted(order) == sorted(g.nodes)
    pos = {n: i for i, n in enumerate(order)}
    assert pos["input"] < pos["fc1"] < pos["lif1.lif"] < pos["lif1.w_rec"]  # the recurrent edge goes backwards
    assert pos["lif1.lif"] < pos["fc2"] < pos["lif2"] < pos["output"]
    verify(g)


def test_copy_graph_is_deep(asa_graph):
    before = copy.deepcopy(asa_graph.nodes["b0_conv"].weight)
    c = copy_graph(asa_graph)
    c.nodes["b0_conv"].weight[...] = 7.0
    c.metadata["snnc"]["T"] = 99
    c.nodes["b0_lif"].metadata["snnc"]["beta"] = np.float32(0.9)
    c.edges.append(("a", "b"))
    assert np.array_equal(asa_graph.nodes["b0_conv"].weight, before)
    assert asa_graph.metadata["snnc"]["T"] == 4 and asa_graph.nodes["b0_lif"].metadata["snnc"]["beta"] != 0.9
    assert ("a", "b") not in asa_graph.edges
    infer_shapes(asa_graph)  # no mutation either
    verify(asa_graph)


def test_timegain_on_a_recurrent_loop_is_refused():
    g = _timegain_graph(branch_conv=False)
    g.edges.append(("lif", "a2"))  # recurrent: lif -> a2 -> tg -> lif
    with pytest.raises(VerifyError, match="'tg'.*recurrent"):
        verify(g)


def test_timegain_on_a_loop_is_refused_whatever_the_walk_order():
    g = _timegain_graph(branch_conv=False)
    g.edges.insert(0, ("lif", "a2"))
    g.edges.insert(0, ("input", "a2"))
    g.edges = list(dict.fromkeys(g.edges))
    with pytest.raises(VerifyError, match="'tg'.*recurrent"):
        verify(g)
