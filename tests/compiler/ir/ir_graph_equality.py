"""Exact graph comparison for round-trip tests: same nodes, kinds, edges, fields, metadata, dtypes."""

from __future__ import annotations

import dataclasses

import numpy as np


def assert_value_identical(a, b, where: str) -> None:
    """a and b equal exactly: same type, arrays with the same dtype, shape and bytes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), f"{where}: {type(a)} vs {type(b)}"
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        assert a.tobytes() == b.tobytes(), f"{where}: array contents differ"
        return
    assert type(a) is type(b), f"{where}: type {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b) or sorted(a) == sorted(b), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_value_identical(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_value_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def assert_graphs_identical(g1, g2) -> None:
    """Every node field (not the derived input/output types), every edge and all metadata equal."""
    assert sorted(g1.nodes) == sorted(g2.nodes)
    assert sorted(map(tuple, g1.edges)) == sorted(map(tuple, g2.edges))
    assert_value_identical(dict(g1.metadata), dict(g2.metadata), "graph.metadata")
    for name, n1 in g1.nodes.items():
        n2 = g2.nodes[name]
        assert type(n1) is type(n2), f"{name}: {type(n1).__name__} vs {type(n2).__name__}"
        for f in dataclasses.fields(n1):
            if f.name in ("input_type", "output_type"):
                continue
            v1, v2 = getattr(n1, f.name), getattr(n2, f.name)
            if f.name in ("stride", "padding", "dilation", "kernel_size", "input_shape") and not isinstance(v1, str):
                v1, v2 = np.asarray(v1), np.asarray(v2)  # NIR normalises these to tuples/arrays itself
                assert np.array_equal(v1, v2), f"{name}.{f.name}: {v1} vs {v2}"
                continue
            assert_value_identical(v1, v2, f"{name}.{f.name}")
