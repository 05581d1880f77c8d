"""Loihi 2 resource model: hand-computable layers (every expected number derived here from the formula the
module docstrings state), one split per limit in turn, and hypothesis properties of the core search."""

from __future__ import annotations

import math

import nir
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.compiler.analysis.loihi2_limits import DEFAULT_LIMITS, LIMITS, Loihi2Limits
from snnc.compiler.analysis.loihi2_resources import loihi2_resources, map_population
from snnc.compiler.analysis.loihi2_synapses import SynapseGroup
from snnc.compiler.ir.graph_utils import make_graph
from snnc.errors import SnncError


def words(n_weights: int, bits: int) -> int:
    """64-bit words of one axon with n weights (blocks of 64 weights + 10 header bits each)."""
    full, rest = divmod(n_weights, 64)
    return full * math.ceil((64 * bits + 10) / 64) + (math.ceil((rest * bits + 10) / 64) if rest else 0)


def lif(shape) -> nir.LIF:
    n = tuple(shape)
    return nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))


def dense_graph(n_in: int, n_out: int, weight: np.ndarray | None = None) -> nir.NIRGraph:
    w = np.full((n_out, n_in), 0.5) if weight is None else weight
    return make_graph({"input": nir.Input(input_type={"input": np.array([n_in])}),
                       "fc": nir.Affine(weight=w, bias=np.zeros(n_out)), "lif": lif([n_out]),
                       "output": nir.Output(output_type={"output": np.array([n_out])})},
                      [("input", "fc"), ("fc", "lif"), ("lif", "output")])


def conv_graph(c_in: int, c_out: int, hw: int, k: int = 3, pad: int = 1) -> nir.NIRGraph:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(c_out, c_in, k, k))
    out = hw + 2 * pad - k + 1
    return make_graph({"input": nir.Input(input_type={"input": np.array([c_in, hw, hw])}),
                       "conv": nir.Conv2d(input_shape=(hw, hw), weight=w, stride=1, padding=pad, dilation=1, groups=1,
                                          bias=np.zeros(c_out)), "lif": lif([c_out, out, out]),
                       "output": nir.Output(output_type={"output": np.array([c_out, out, out])})},
                      [("input", "conv"), ("conv", "lif"), ("lif", "output")])


def only_layer(res: dict) -> dict:
    assert len(res["layers"]) == 1
    return res["layers"][0]


def test_dense_layer_by_hand():
    w = np.tile(np.array([-3.0, 1.0, 2.0, 0.0, 3.0]), (20, 2))  # (20, 10) integers, mixed sign, |w| <= 3
    row = only_layer(loihi2_resources(dense_graph(10, 20, w)))
    bits = 2 + 1  # magnitude 3 needs 2 bits, mixed signs 1 more; 3 is a chip width
    assert (row["neurons"], row["fan_in"], row["fan_out"], row["weight_bits"]) == (20, 10, 0, bits)
    assert row["synapses_logical"] == row["weights_stored"] == 10 * 20  # dense: nothing shared
    assert row["synapse_bits_per_core"] == 10 * 64 * words(20, bits)  # 10 axons x 20 weights of 3 bits
    assert row["in_axons_per_core"] == 10 and row["cores"] == 1 and row["binding"] == []


def test_float_weights_count_as_the_chip_maximum():
    row = only_layer(loihi2_resources(dense_graph(4, 3)))
    assert row["weight_bits"] == LIMITS["max_weight_bits"].value == 8


def test_conv_layer_shares_its_kernel():
    row = only_layer(loihi2_resources(conv_graph(2, 4, 8)))
    valid_per_axis = 8 * 3 - 2  # 3 taps per output, minus the two taps that read padding at the borders
    assert row["neurons"] == 4 * 8 * 8 and row["fan_in"] == 2 * 3 * 3
    assert row["synapses_logical"] == 4 * 2 * valid_per_axis ** 2
    assert row["weights_stored"] == 2 * 3 * 3 * 4  # one kernel for all 64 output pixels
    assert row["synapse_bits_per_core"] == 2 * 64 * words(3 * 3 * 4, 8)  # one weight set per input channel
    assert row["in_axons_per_core"] == 8 * 8  # population axons: one per input pixel
    assert row["cores"] == 1


def test_summed_sources_send_their_own_axons_and_fan_out_adds_up():
    # A = LIF(fc1(x)); B = LIF(fc2(A)); C = LIF(fc3(A + B)): fc3's 6 inputs arrive from two populations
    nodes = {"input": nir.Input(input_type={"input": np.array([4])}),
             "fc1": nir.Linear(weight=np.ones((6, 4))), "A": lif([6]), "fc2": nir.Linear(weight=np.ones((6, 6))),
             "B": lif([6]), "fc3": nir.Linear(weight=np.ones((3, 6))), "C": lif([3]),
             "output": nir.Output(output_type={"output": np.array([3])})}
    edges = [("input", "fc1"), ("fc1", "A"), ("A", "fc2"), ("fc2", "B"), ("A", "fc3"), ("B", "fc3"), ("fc3", "C"),
             ("C", "output")]
    rows = {r["name"]: r for r in loihi2_resources(make_graph(nodes, edges))["layers"]}
    assert rows["C"]["in_axons_per_core"] == 6 * 2 and rows["C"]["fan_in"] == 6  # weights shared by both sources
    assert rows["A"]["fan_out"] == 6 + 3 and rows["B"]["fan_out"] == 3 and rows["C"]["fan_out"] == 0
    assert rows["A"]["weight_bits"] == 1  # all weights 1: one magnitude bit


def test_neurons_bind():
    limits = Loihi2Limits(neurons_per_core=10)
    row = only_layer(loihi2_resources(dense_graph(10, 25), limits))
    assert row["cores"] == math.ceil(25 / 10) and row["binding"] == ["neurons"]


def test_synapse_memory_binds():
    limits = Loihi2Limits(synapse_bits_per_core=640)
    row = only_layer(loihi2_resources(dense_graph(10, 8), limits))
    best_c = max(c for c in range(1, 9) if 10 * 64 * words(c, 8) <= 640)
    assert row["cores"] == math.ceil(8 / best_c) == 2 and row["binding"] == ["synapse memory"]
    assert row["synapse_bits_per_core"] <= 640


def test_in_axons_bind_and_tiles_fix_them():
    limits = Loihi2Limits(in_axons_per_core=100)
    row = only_layer(loihi2_resources(conv_graph(1, 1, 16), limits))
    brute = min(math.ceil(16 / r) * math.ceil(16 / w) for r in range(1, 17) for w in range(1, 17)
                if min(16, r + 2) * min(16, w + 2) <= 100)  # 3x3 kernel: a tile of r x w reads (r+2) x (w+2)
    assert row["cores"] == brute == 4 and row["binding"] == ["in-axons"]
    assert row["in_axons_per_core"] <= 100


def test_fan_in_binds_and_splits_the_inputs():
    limits = Loihi2Limits(in_axons_per_core=128)
    res = loihi2_resources(dense_graph(300, 5), limits)
    row = only_layer(res)
    parts = math.ceil(300 / 128)  # 3 parts of 100 inputs, each one core; the join (5 x 3 axons) one core
    assert row["split"]["fan_in_parts"] == parts == 3
    assert row["cores"] == parts * 1 + 1 and row["binding"] == ["fan-in"]
    assert row["weights_stored"] == parts * 100 * 5 + 5 * parts
    assert row["compartments"] == 5 * (parts + 1) == res["totals"]["compartments"]


def test_chip_totals_and_fit():
    res = loihi2_resources(dense_graph(10, 25), Loihi2Limits(neurons_per_core=10, cores_per_chip=2))
    assert res["totals"]["cores"] == 3 and res["totals"]["chips"] == math.ceil(3 / 2)
    assert res["totals"]["fits_one_chip"] is False
    assert loihi2_resources(dense_graph(10, 25))["totals"]["fits_one_chip"] is True


def test_every_limit_has_a_source_and_a_status():
    assert set(LIMITS) == set(DEFAULT_LIMITS.as_dict())
    assert all(lim.status in ("public", "assumed") and lim.source for lim in LIMITS.values())
    assert {n for n, lim in LIMITS.items() if lim.status == "public"} >= {"cores_per_chip", "neurons_per_chip",
                                                                         "synapses_per_chip"}


def test_unmodelled_node_is_refused_by_name():
    g = dense_graph(4, 3)
    g.nodes["fc"] = nir.Conv1d(input_shape=4, weight=np.ones((3, 1, 1)), stride=1, padding=0, dilation=1, groups=1,
                               bias=np.zeros(3))
    with pytest.raises(SnncError, match="'fc' \\(Conv1d\\)"):
        loihi2_resources(g)


limit_values = st.builds(Loihi2Limits, neurons_per_core=st.integers(1, 300),
                         synapse_bits_per_core=st.integers(64, 40_000), in_axons_per_core=st.integers(4, 400))


@st.composite
def layers(draw):
    if draw(st.booleans()):
        n_in, n_out = draw(st.integers(1, 600)), draw(st.integers(1, 200))
        return (n_out, 1, 1), SynapseGroup("s", "dense", "dense", c_in=n_in, c_out=n_out,
                                           weight_bits=draw(st.sampled_from([1, 2, 8])))
    c_in, c_out, k, hw = (draw(st.integers(1, 8)), draw(st.integers(1, 12)), draw(st.integers(1, 4)),
                          draw(st.integers(4, 20)))
    out = hw - k + 1
    return (c_out, out, out), SynapseGroup("s", "conv", "conv", c_in=c_in, c_out=c_out, kernel=(k, k),
                                           in_hw=(hw, hw), out_hw=(out, out), weight_bits=8)


@settings(max_examples=60, deadline=None)
@given(layer=layers(), limits=limit_values)
def test_cores_respect_every_limit(layer, limits):
    shape, group = layer
    m = map_population(shape, [group], limits)
    n = shape[0] * shape[1] * shape[2]
    if m is None:
        return
    assert m.neurons_per_core <= limits.neurons_per_core
    assert m.bits_per_core <= limits.synapse_bits_per_core and m.axons_per_core <= limits.in_axons_per_core
    parts = m.parts if m.parts > 1 else 1
    assert m.cores >= parts * math.ceil(n / limits.neurons_per_core)
    assert m.channels * m.rows * m.cols * (m.cores if parts == 1 else m.part_cores) >= n  # tiles cover it
    if parts == 1:
        assert m.cores == math.ceil(shape[0] / m.channels) * math.ceil(shape[1] / m.rows) * math.ceil(shape[2] / m.cols)
    loose = Loihi2Limits(neurons_per_core=2 * limits.neurons_per_core,
                         synapse_bits_per_core=2 * limits.synapse_bits_per_core,
                         in_axons_per_core=limits.in_axons_per_core)
    m2 = map_population(shape, [group], loose)
    assert m2 is not None and m2.cores <= m.cores  # more room never needs more cores


@settings(max_examples=40, deadline=None)
@given(c_in=st.integers(1, 6), c_out=st.integers(1, 9), k=st.integers(1, 3), hw=st.integers(3, 11),
       limits=limit_values)
def test_core_search_finds_the_fewest_cores_of_any_tiling(c_in, c_out, k, hw, limits):
    """Brute force over every (channel blocks, row bands, column bands) count, limits checked by the formulas."""
    out = hw - k + 1
    group = SynapseGroup("s", "conv", "conv", c_in=c_in, c_out=c_out, kernel=(k, k), in_hw=(hw, hw),
                         out_hw=(out, out), weight_bits=8)
    best = None
    for b in range(1, c_out + 1):
        c = math.ceil(c_out / b)
        bits = c_in * 64 * words(k * k * c, 8)
        for qh in range(1, out + 1):
            for qw in range(1, out + 1):
                r, w = math.ceil(out / qh), math.ceil(out / qw)
                axons = min(hw, r + k - 1) * min(hw, w + k - 1)
                if c * r * w <= limits.neurons_per_core and bits <= limits.synapse_bits_per_core \
                        and axons <= limits.in_axons_per_core:
                    cores = math.ceil(c_out / c) * math.ceil(out / r) * math.ceil(out / w)
                    best = cores if best is None else min(best, cores)
    m = map_population((c_out, out, out), [group], limits)
    assert (m is None) == (best is None)
    if m is not None:
        assert m.cores == best
