"""write_graph/read_graph: exact round trips (extension nodes, metadata types, 0-d arrays),
stock nir.read compatibility, export_standard notes and one-line errors for bad files."""

from __future__ import annotations

import h5py
import nir
import numpy as np
import pytest

from ir_graph_equality import assert_graphs_identical
from snnc.compiler.ir import (ASA, BatchNorm, LoihiLIF, MaxPool2d, TimeGain, export_standard, infer_shapes, make_graph,
                              read_graph, verify, write_graph)
from snnc.errors import SnncError


def _ext_graph(rng):
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    nodes = {
        "input": nir.Input(input_type=np.array([4, 6, 6])),
        "pool": MaxPool2d(kernel_size=2, stride=2, padding=0),
        "bn": BatchNorm(f(4), np.abs(f(4)) + 0.1, f(4), f(4), eps=1e-3),
        "asa": ASA(alpha=f(1), gamma=f(1), fc1=f(3, 3), fc2=np.zeros((0, 0), np.float32), conv1=f(1, 2, 3, 3),
                   conv2=f(1, 2, 3, 3), T=3, reduction=1, lam=0.5, k_c=2, k_t=1),
        "tg": TimeGain(gain=f(3, 4, 1, 1), gain_mant=rng.integers(-100, 100, (3, 4, 1, 1)), gain_shift=7),
        "neuron": LoihiLIF(du=4095, dv=2867, vth=77, bias_mant=rng.integers(-5, 5, (4, 3, 3)),
                           bias_exp=np.zeros((4, 3, 3), np.int64)),
        "output": nir.Output(output_type=np.array([4, 3, 3])),
    }
    names = list(nodes)
    meta = {"snnc": {"format": 1, "T": 3, "dt": 1e-3, "threshold": ">", "numerics": "fixed",
                     "readout": {"kind": "vote", "group": 10}, "model": {"widths": [4, 8], "size": (3, 3),
                                                                       "none": None, "flag": True,
                                                                       "mixed": [1, "a", 2.5]},
                     "scale": np.float32(3.25), "vec": np.arange(3, dtype=np.int16)}}
    g = make_graph(nodes, [(a, b) for a, b in zip(names, names[1:])], meta)
    g.nodes["neuron"].metadata = {"snnc": {"scale": np.float64(2.0), "note": "x"}}
    return g


def test_extension_nodes_round_trip_exactly(tmp_path, rng):
    g = _ext_graph(rng)
    verify(g)
    write_graph(tmp_path / "g.nir", g)
    g2 = read_graph(tmp_path / "g.nir")
    assert_graphs_identical(infer_shapes(g), g2)  # reading infers shapes (extension ``shape`` fields)
    assert g2.nodes["tg"].gain_mant.dtype == np.int64 and g2.metadata["snnc"]["model"]["size"] == (3, 3)
    verify(g2)


def test_stock_nir_reads_files_with_extensions(tmp_path, rng):
    write_graph(tmp_path / "g.nir", _ext_graph(rng))
    stock = nir.read(str(tmp_path / "g.nir"))  # type_check=True
    kinds = {n: type(v).__name__ for n, v in stock.nodes.items()}
    assert kinds["pool"] == "SumPool2d" and kinds["asa"] == "Scale" and kinds["neuron"] == "Scale"
    assert stock.nodes["asa"].metadata["snnc_ext"]["type"] == "ASA"
    assert list(stock.nodes["output"].input_type["input"]) == [4, 3, 3]


def test_zero_d_arrays_are_written(tmp_path):
    """NIR 1.0.8's gzip write fails on 0-d arrays; ours stores them uncompressed."""
    lif = nir.LIF(tau=np.array(0.01), r=np.array(1.0), v_leak=np.array(0.0), v_threshold=np.array(1.0),
                  v_reset=np.array(0.0))
    g = make_graph({"input": nir.Input(input_type=np.array([1])), "lif": lif,
                    "output": nir.Output(output_type=np.array([1]))}, [("input", "lif"), ("lif", "output")])
    with pytest.raises(Exception):
        nir.write(str(tmp_path / "stock.nir"), g)
    write_graph(tmp_path / "ours.nir", g)
    g2 = read_graph(tmp_path / "ours.nir")
    assert g2.nodes["lif"].tau.shape == () and g2.nodes["lif"].tau == np.array(0.01)


def test_export_standard_reports_each_nonstandard_node(rng):
    g = _ext_graph(rng)
    std, notes = export_standard(g)
    assert [n.split(":")[0] for n in notes] == ["pool", "bn", "asa", "tg", "neuron"]
    assert "fold" in notes[1] and "no standard NIR form" in notes[2]
    plain = make_graph({"input": nir.Input(input_type=np.array([2])),
                        "fc": nir.Affine(weight=np.ones((2, 2), np.float32), bias=np.zeros(2, np.float32)),
                        "output": nir.Output(output_type=np.array([2]))}, [("input", "fc"), ("fc", "output")])
    assert export_standard(plain)[1] == []


def test_write_is_atomic_on_failure(tmp_path, rng):
    g = _ext_graph(rng)
    g.metadata["bad"] = object()
    target = tmp_path / "g.nir"
    with pytest.raises(SnncError, match="g.nir"):
        write_graph(target, g)
    assert list(tmp_path.iterdir()) == []


def test_bad_files_raise_one_line_errors(tmp_path, rng):
    junk = tmp_path / "junk.nir"
    junk.write_bytes(rng.bytes(300))
    with pytest.raises(SnncError, match=r"junk.nir: not an HDF5"):
        read_graph(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("data", data=np.arange(3))
    with pytest.raises(SnncError, match=r"other.h5: HDF5 file is not a NIR graph"):
        read_graph(other)
    path = tmp_path / "unknown.nir"
    write_graph(path, _ext_graph(rng))
    with h5py.File(path, "a") as f:
        del f["node/nodes/bn/type"]
        f["node/nodes/bn"].create_dataset("type", data="Quux", dtype=h5py.string_dtype())
        del f["node/nodes/bn/metadata"]
    with pytest.raises(SnncError, match=r"unknown.nir: node 'bn' has unknown node type 'Quux'"):
        read_graph(path)
    with pytest.raises(SnncError, match="no such file"):
        read_graph(tmp_path / "missing.nir")
