"""Helpers for the pass tests: tiny seeded snnc networks as IR graphs, and deep graph snapshots."""

from __future__ import annotations

import dataclasses

import numpy as np

TINY = {
    "model": "lif-snn-3", "T": 4, "in_channels": 2, "input_size": [8, 8], "num_classes": 4,
    "widths": [3, 4, 4], "fc_hidden": 8, "reduction": 2, "lam": 0.5, "v_th": 0.3, "beta": 0.3, "dropout": 0.0,
}


def tiny_model(attention: str = "asa", seed: int = 0, **overrides):
    """A seeded tiny LIF-SNN-3 in eval mode with non-trivial BatchNorm statistics."""
    import torch

    from snnc.models import build_model

    torch.manual_seed(seed)
    model = build_model({**TINY, "attention": attention, **overrides})
    gen = torch.Generator().manual_seed(seed + 1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
            m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)
    return model.eval()


def tiny_graph(attention: str = "asa", seed: int = 0, **overrides):
    from snnc.frontends import model_to_graph

    return model_to_graph(tiny_model(attention, seed, **overrides))


def tiny_frames(n: int = 4, seed: int = 0, T: int = TINY["T"]) -> np.ndarray:
    """Random event-count frames [n, T, 2, 8, 8] (float32, Poisson counts)."""
    rng = np.random.default_rng(seed)
    return rng.poisson(0.6, size=(n, T, 2, *TINY["input_size"])).astype(np.float32)


def _value(v):
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    if isinstance(v, np.generic):
        return ("scalar", v.dtype.str, v.tobytes())
    return repr(v)


def snapshot(g) -> dict:
    """A deep, comparable picture of a graph: every node field (arrays as bytes), edges, metadata."""
    nodes = {}
    for name, node in g.nodes.items():
        fields = {f.name: _value(getattr(node, f.name)) for f in dataclasses.fields(node)}
        nodes[name] = (type(node).__name__, fields)
    return {"nodes": nodes, "edges": [tuple(e) for e in g.edges], "metadata": _value(dict(g.metadata or {}))}
