"""Shared by the released-checkpoint tests: the reference cases of tests/data/released/ (made by the
released ASA-SNN code itself; see regenerate.py there), rebuilt without that code, and how to run and
compare them."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from snnc.backends.registry import get_backend

DATA = Path(__file__).resolve().parents[1] / "data" / "released"
CASES = sorted(p.stem for p in DATA.glob("*.json"))


def _recipe():
    """tests/data/released/recipe.py (numpy only; shared with the generator, which runs without snnc)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("released_recipe", DATA / "recipe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_array = _recipe().make_array




def load_case(name: str) -> tuple[dict, dict[str, torch.Tensor], np.ndarray]:
    """(case, the released state_dict in the released key order, inputs [S, T, P, X, Y] as float32);
    the dict is a fresh copy (entries may be replaced), the tensors are shared (never modified)."""
    case, sd, x = _load_case(name)
    return case, dict(sd), x


@functools.lru_cache(maxsize=None)
def _load_case(name: str) -> tuple[dict, dict[str, torch.Tensor], np.ndarray]:
    case = json.loads((DATA / f"{name}.json").read_text())
    arrays = {}
    for i, spec in enumerate(case["state_dict"]):
        a = make_array(case["seed"], i, spec)
        assert float(a.astype(np.float64).sum()) == spec["checksum"], f"recipe rebuild differs at {spec['key']}"
        arrays[spec["key"]] = torch.from_numpy(a)
    sd = {k: arrays[k] for k in case["state_dict_order"]}
    x = np.load(DATA / f"{name}_inputs.npz")["x"].astype(np.float32)
    return case, sd, x


def simulate(graph, x_released: np.ndarray):
    """snnc's cpu backend on released frames, transposed to (C, H = y, W = x) when the graph says so."""
    x = x_released.transpose(0, 1, 2, 4, 3) if graph.metadata["snnc"]["released"]["transposed"] else x_released
    return get_backend("cpu").run(graph, np.ascontiguousarray(x))


def output_rates(graph, out: np.ndarray) -> np.ndarray:
    """The released readout with the released torch ops: mean over T of the output spikes (LIF-SNN-5:
    ``F.avg_pool1d`` voting over groups of 10 first)."""
    o = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))  # [N, T, K]
    readout = graph.metadata["snnc"]["readout"]
    if readout["kind"] == "vote":
        n, t, k = o.shape
        o = F.avg_pool1d(o.reshape(n * t, 1, k), readout["group"], readout["group"]).reshape(n, t, -1)
    return torch.mean(o, dim=1).numpy()


def compare_counts(name: str, case: dict, g, res, samples, layers_of) -> int:
    """Assert snnc's per-layer counts (T x channels) equal the released ones; returns spikes compared."""
    lifs = sorted((n for n in g.nodes if n.endswith("_lif")), key=lambda n: int(n[1:].split("_")[0]))
    compared = 0
    for s in samples:
        expected = case["expected"]["counts"][s]
        assert len(expected) == len(lifs)
        for i in layers_of(s, len(lifs)):
            spikes = res.spikes[lifs[i]][s]  # [T, C, ...]
            counts = spikes.reshape(spikes.shape[0], spikes.shape[1], -1).sum(-1).astype(np.int64)
            assert counts.tolist() == expected[f"L{i}"], (name, s, lifs[i])
            compared += int(counts.sum())
    return compared


def module_form(sd: dict) -> dict:
    """spikingjelly's older container spelling: ``conv.module.weight`` instead of ``conv.0.weight``."""
    return {re.sub(r"\.(conv|bn|linear|spike)\.0\.", r".\1.module.", k): v for k, v in sd.items()}


def same_graph(a, b) -> None:
    assert sorted(a.nodes) == sorted(b.nodes) and sorted(a.edges) == sorted(b.edges)
    assert a.metadata == b.metadata
    for name, node in a.nodes.items():
        other = b.nodes[name]
        assert type(node) is type(other), name
        for field, v in vars(node).items():
            w = getattr(other, field)
            if isinstance(v, np.ndarray):
                assert v.dtype == w.dtype and np.array_equal(v, w), (name, field)
            elif isinstance(v, dict):
                assert set(v) == set(w), (name, field)
                for k in v:
                    assert np.array_equal(np.asarray(v[k]), np.asarray(w[k])), (name, field, k)
            else:
                assert v == w, (name, field)
