"""NIR files of older versions and exporters (issue 13, item 4): the file's ``version`` decides IF's reset.

The files are written here with h5py in the plain NIR layout (dataset ``version``, group ``node`` with
``type``, ``nodes/<name>/...``, ``edges``): these are file-format facts, not semantics. NIR <= 1.0.5
defined IF's reset as v <- v - v_thr (no ``v_reset``, see nir v1.0.4 ``nir/ir/neuron.py``); 1.0.6 added
``v_reset`` (0 when absent). The expected spike trains are worked out by hand below, in binary-exact
numbers (0.75 steps against a threshold of 1).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from snnc.errors import SnncError

INTEROP = Path(__file__).resolve().parents[1] / "data" / "interop"

# IF(r=1, v_th=1) driven by 0.75 per step (Affine weight 0.75 on an input of ones), spike when v > 1:
#   subtract: v = .75, 1.5 s -> .5, 1.25 s -> .25, 1.0, 1.75 s -> .75, 1.5 s -> .5, 1.25 s -> .25, 1.0
#   zero:     v = .75, 1.5 s -> 0, .75, 1.5 s -> 0, ...
SUBTRACT_TRAIN = [0, 1, 1, 0, 1, 1, 1, 0]
ZERO_TRAIN = [0, 1, 0, 1, 0, 1, 0, 1]


def _put(group: h5py.Group, name: str, value) -> None:
    if isinstance(value, dict):
        sub = group.create_group(name)
        for k, v in value.items():
            _put(sub, k, v)
    elif isinstance(value, str):
        group.create_dataset(name, data=value)
    else:
        group.create_dataset(name, data=np.asarray(value))


def write_nir(path: Path, version: str | None, nodes: dict, edges: list[tuple[str, str]]) -> Path:
    """A NIR HDF5 file as nir.write of ``version`` lays it out (no snnc attributes)."""
    with h5py.File(path, "w") as f:
        if version is not None:
            f.create_dataset("version", data=version)
        root = f.create_group("node")
        root.create_dataset("type", data="NIRGraph")
        _put(root, "nodes", nodes)
        root.create_dataset("edges", data=np.array(edges, dtype=h5py.string_dtype()).reshape(-1, 2))
    return path


def if_chain(n_if: int = 1, lif: bool = False) -> tuple[dict, list]:
    """input(1) -> Affine 0.75 -> IF (-> Affine 1.0 -> IF ...) [-> Affine -> LIF] -> output."""
    nodes = {"input": {"type": "Input", "shape": [1]}}
    edges, prev = [], "input"
    for i in range(n_if):
        nodes[f"fc{i}"] = {"type": "Affine", "weight": np.array([[0.75 if i == 0 else 1.0]], np.float32),
                           "bias": np.zeros(1, np.float32)}
        nodes[f"if{i}"] = {"type": "IF", "r": np.ones(1, np.float32), "v_threshold": np.ones(1, np.float32)}
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"if{i}")]
        prev = f"if{i}"
    if lif:
        nodes["fcl"] = {"type": "Affine", "weight": np.ones((1, 1), np.float32), "bias": np.zeros(1, np.float32)}
        nodes["lif"] = {"type": "LIF", "tau": np.full(1, 2e-3, np.float32), "r": np.ones(1, np.float32),
                        "v_leak": np.zeros(1, np.float32), "v_threshold": np.ones(1, np.float32)}
        edges += [(prev, "fcl"), ("fcl", "lif")]
        prev = "lif"
    nodes["output"] = {"type": "Output", "shape": [1]}
    edges.append((prev, "output"))
    return nodes, edges


def _if_spikes(path: Path) -> list[int]:
    from snnc.backends.cpu import run
    from snnc.frontends import load_graph

    res = run(load_graph(path), np.ones((1, len(SUBTRACT_TRAIN), 1), np.float32))
    return [int(s) for s in res.spikes["if0"][0, :, 0]]


@pytest.mark.parametrize("version, train", [("1.0.4", SUBTRACT_TRAIN), ("0.2.0", SUBTRACT_TRAIN),
                                            ("1.0.5", SUBTRACT_TRAIN), ("1.0.6", ZERO_TRAIN),
                                            ("1.0.8", ZERO_TRAIN), (None, ZERO_TRAIN)])
def test_if_reset_follows_file_version(tmp_path, version, train):
    path = write_nir(tmp_path / "if.nir", version, *if_chain())
    assert _if_spikes(path) == train


def test_old_if_is_recorded_and_said(tmp_path):
    from snnc.frontends import load_graph

    g = load_graph(write_nir(tmp_path / "if.nir", "1.0.4", *if_chain(n_if=2)))
    meta = g.metadata["snnc"]
    assert meta["reset"] == "subtract" and meta["nir_version"] == "1.0.4"
    assert any("written by nir 1.0.4: IF resets by subtraction" in n for n in meta["source_notes"])
    g_new = load_graph(write_nir(tmp_path / "new.nir", "1.0.8", *if_chain(n_if=2)))
    assert "reset" not in (g_new.metadata.get("snnc") or {})


def test_old_if_round_trips_through_snnc_files(tmp_path):
    """An snnc-written copy (nir 1.0.8 version string) keeps the subtraction: it is in the metadata."""
    from snnc.compiler.ir.serialize import write_graph
    from snnc.frontends import load_graph

    g = load_graph(write_nir(tmp_path / "if.nir", "1.0.4", *if_chain()))
    write_graph(tmp_path / "copy.nir", g)
    assert _if_spikes(tmp_path / "copy.nir") == SUBTRACT_TRAIN


def test_old_file_mixing_if_and_lif_subtracts_everywhere(tmp_path):
    """Sinabs-style IF + LIF in one old file: nir 1.0.4 defines LIF's reset by subtraction too."""
    from snnc.frontends import load_graph

    g = load_graph(write_nir(tmp_path / "mixed.nir", "1.0.4", *if_chain(lif=True)))
    assert g.metadata["snnc"]["reset"] == "subtract"
    assert any("IF, LIF and CubaLIF reset by subtraction" in n for n in g.metadata["snnc"]["source_notes"])


def test_old_lif_only_file_resets_to_zero(tmp_path):
    """LIF of old files: reset to zero, as their exporters wrote them (only IF changes meaning)."""
    from snnc.frontends import load_graph

    nodes, edges = if_chain(n_if=0, lif=True)
    nodes["fcl"]["weight"] = np.array([[1.5]], np.float32)
    g = load_graph(write_nir(tmp_path / "lif.nir", "1.0.4", nodes, edges))
    assert "reset" not in g.metadata["snnc"] and g.metadata["snnc"]["nir_version"] == "1.0.4"


def _rockpool_style(batch_in: bool = True, batch_out: bool = True) -> tuple[dict, list]:
    nodes = {
        "input": {"type": "Input", "shape": [1, 3] if batch_in else [3]},
        "0_LinearTorch": {"type": "Linear", "weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 4},
        "1_LIFTorch": {"type": "CubaLIF", "tau_syn": np.full(2, 2e-3, np.float32),
                       "tau_mem": np.full(2, 4e-3, np.float32), "r": np.ones(2, np.float32),
                       "v_leak": np.zeros(2, np.float32), "v_threshold": np.ones(2, np.float32),
                       "w_in": np.ones(2, np.float32)},
        "output": {"type": "Output", "shape": [1, 2] if batch_out else [2]},
    }
    return nodes, [("input", "0_LinearTorch"), ("0_LinearTorch", "1_LIFTorch"), ("1_LIFTorch", "output")]


def test_batch_typed_io_is_accepted_with_a_note(tmp_path):
    import nir

    from snnc.compiler.ir.shapes import shape_of
    from snnc.frontends import load_graph

    path = write_nir(tmp_path / "rockpool.nir", "1.0.4", *_rockpool_style())
    with pytest.raises(Exception):  # stock nir 1.0.8 refuses the (1, 3) types: the reason this exists
        nir.read(path)
    g = load_graph(path)
    assert shape_of(g, "input", "output") == (3,) and shape_of(g, "output", "input") == (2,)
    notes = g.metadata["snnc"]["source_notes"]
    assert any("batch dimension" in n and "[1, 3]" in n for n in notes)
    assert any("[1, 2]" in n for n in notes)
    plain = load_graph(write_nir(tmp_path / "plain.nir", "1.0.4", *_rockpool_style(False, False)))
    assert "source_notes" not in plain.metadata["snnc"]


def test_batch_typed_graph_runs_like_the_plain_one(tmp_path):
    from snnc.backends.cpu import run
    from snnc.frontends import load_graph

    x = (np.random.default_rng(3).random((2, 12, 3)) < 0.5).astype(np.float32)
    a = run(load_graph(write_nir(tmp_path / "b.nir", "1.0.4", *_rockpool_style())), x, dt=1e-3)
    b = run(load_graph(write_nir(tmp_path / "p.nir", "1.0.4", *_rockpool_style(False, False))), x, dt=1e-3)
    assert np.array_equal(a.spikes["1_LIFTorch"], b.spikes["1_LIFTorch"]) and a.spikes["1_LIFTorch"].any()


def test_conv_input_with_one_channel_is_not_stripped(tmp_path):
    """(1, H, W) in front of a Conv2d is a channel, not a batch: kept as it is."""
    from snnc.compiler.ir.shapes import shape_of
    from snnc.frontends import load_graph

    nodes = {
        "input": {"type": "Input", "shape": [1, 4, 4]},
        "conv": {"type": "Conv2d", "weight": np.ones((2, 1, 3, 3), np.float32), "bias": np.zeros(2, np.float32),
                 "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1, "input_shape": [4, 4]},
        "if": {"type": "IF", "r": np.ones((2, 4, 4), np.float32), "v_threshold": np.ones((2, 4, 4), np.float32)},
        "output": {"type": "Output", "shape": [2, 4, 4]},
    }
    g = load_graph(write_nir(tmp_path / "c.nir", "1.0.8", nodes, [("input", "conv"), ("conv", "if"), ("if", "output")]))
    assert shape_of(g, "input", "output") == (1, 4, 4)


@pytest.mark.parametrize("path", sorted(INTEROP.rglob("*.nir")) if INTEROP.is_dir() else [],
                         ids=lambda p: str(p.relative_to(INTEROP)))
def test_framework_exports_load(path):
    """Every real framework export (tests/data/interop, made by Sinabs/Rockpool/snnTorch/Norse) loads."""
    from snnc.frontends import load_graph

    g = load_graph(path)
    assert g.nodes
