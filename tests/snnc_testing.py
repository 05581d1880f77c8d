"""Helpers shared by tests in several folders (importable: pytest puts tests/ on sys.path via the
root conftest)."""

from __future__ import annotations

import numpy as np

from snnc.cli import main

#: Inter-spike intervals of the NIR paper's single-LIF task (../shared/nir-reference/README.md).
LIF_PAPER_ISI = [6, 15, 4, 3, 0, 2, 1, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                 0, 0, 5, 0, 14]


def lif_paper_input() -> np.ndarray:
    """The README's input: each interval n gives n zeros then a one, cut to 100 entries, each entry
    followed by 9 zero steps: 1000 steps, shape [N=1, T=1000, 1]."""
    seq: list[int] = []
    for n in LIF_PAPER_ISI:
        seq += [0] * n + [1]
    x = np.zeros(1000, np.float32)
    x[::10] = seq[:100]
    return x[None, :, None]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``snnc ARGS`` in-process through the real entry point; returns (exit code, stdout, stderr)."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def tiny_checkpoint(path) -> "Path":
    """A tiny snnc checkpoint (the demo LIF-SNN-3 with ASA at widths 2, FC 4, T 2; seeded): seconds to compile."""
    import torch

    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    torch.manual_seed(0)
    model = build_model({**demo_config("asa"), "widths": [2, 2, 2], "fc_hidden": 4, "T": 2}).eval()
    return save_checkpoint(path, model, hparams={}, train_meta={})


def tree_state(root) -> dict[str, str | None]:
    """Every path below ``root`` (hidden ones too) -> sha256 of its bytes (None for a directory)."""
    import hashlib
    from pathlib import Path

    out: dict[str, str | None] = {}
    for p in sorted(Path(root).rglob("*")):
        out[p.relative_to(root).as_posix()] = None if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# --- the NIR paper's NIR → Lava mapping of its single-LIF task (test-only; no snnc code path uses it) ---
# Source: ``paper/01_lif/_lava_nir.py`` of github.com/neuromorphs/NIR (the script that produced
# ``lif_lava_cpu_fixed.csv``). For ``Affine(w) → LIF(tau, v_threshold)`` at step dt it builds
# ``Dense(int32(w·256)) → Dense(int32(dt/tau·256)) → LIF(du, dv, vth)`` with du = int(1.0·4095) = 4095 (no
# current memory), dv = int(dt/tau·4095), vth = int(v_threshold·131071) >> 9, bias 0. Lava's bit-accurate
# Dense receives booleans, so the second Dense sees 1 whenever the first one's output is non-zero: for the
# paper's one-input neuron this is one Affine with integer weight int32(dt/tau·256) (0 where int32(w·256) = 0),
# one delaying node under lava timing (input at step t, first voltage at t + 1, as the recorded trace shows).
# The CPU simulator's tests and the Lava backend's tests both use :func:`paper_lif_to_fixed`.


def nir_lif_to_lava(tau: float, r: float, v_threshold: float, dt: float) -> dict[str, float | int]:
    """The paper's Lava ``LIF`` parameters of one NIR LIF(tau, r, v_threshold) at step dt, and its input weight.

    Float (``PyLifModelFloat``): du = 1, dv = dt/τ, vth = v_th, weight dt/τ (r is not applied by the paper
    script). Fixed (``*_int``): du = int(1·4095), dv = int(dt/τ·4095), vth = int(v_th·131071) >> 9,
    weight = int32(dt/τ·256) (truncation, as ``astype(np.int32)``)."""
    a = float(dt) / float(tau)
    return {"du": 1.0, "dv": a, "vth": float(v_threshold), "weight": a,
            "du_int": int(1.0 * 4095), "dv_int": int(a * 4095),
            "vth_int": int(int(float(v_threshold) * 131071) >> 9), "weight_int": int(np.int32(np.float64(a) * 256))}


def paper_lif_params(tau: float, v_threshold: float, dt: float) -> dict[str, int]:
    """(du, dv, vth, input weight) of ``_lava_nir.py`` for one LIF neuron (integers)."""
    p = nir_lif_to_lava(tau, 1.0, v_threshold, dt)
    return {"du": p["du_int"], "dv": p["dv_int"], "vth": p["vth_int"], "weight": p["weight_int"]}


def paper_lif_to_fixed(graph, dt: float):
    """The fixed-point graph (LoihiLIF + integer Affine) of an ``Affine → LIF`` graph of single neurons."""
    import nir

    from snnc.compiler.ir import nodes as ext
    from snnc.compiler.ir.graph_utils import copy_graph, node_kind, predecessors

    g = copy_graph(graph)
    pred = predecessors(g)
    for name, node in list(g.nodes.items()):
        if node_kind(node) != "LIF":
            continue
        (syn,) = pred[name]
        aff = g.nodes[syn]
        if node_kind(aff) != "Affine" or np.asarray(aff.weight).shape != (1, 1) or np.any(np.asarray(aff.bias) != 0):
            raise ValueError(f"paper mapping: {name!r} must be fed by a bias-free 1x1 Affine")
        p = paper_lif_params(float(np.asarray(node.tau).reshape(-1)[0]),
                             float(np.asarray(node.v_threshold).reshape(-1)[0]), dt)
        w1 = np.asarray(aff.weight, np.float64) * 256
        w = np.where(w1.astype(np.int32) != 0, p["weight"], 0).astype(np.float32)
        g.nodes[syn] = nir.Affine(weight=w, bias=np.zeros(1, np.float32))
        g.nodes[name] = ext.LoihiLIF(du=p["du"], dv=p["dv"], vth=p["vth"], bias_mant=np.zeros(1, np.int64),
                                     bias_exp=np.zeros(1, np.int64), shape=np.array([1]))
    meta = dict(g.metadata or {})
    meta["snnc"] = {**meta.get("snnc", {}), "numerics": "fixed", "threshold": ">", "dt": float(dt)}
    g.metadata = meta
    return g
