r"""``fuse_asa_gains``: replace every window-attention node (ASA and its ablations, TA, CA, SA, TCSA;
:mod:`snnc.compiler.window_attention`) by a calibrated :class:`TimeGain`.

Each multiplies the layer's input current by a data-dependent factor, for ASA (:mod:`snnc.models.asa`, steps 1–6)

.. math:: y[t,c,h,w] = x[t,c,h,w]\,f[t,c,h,w], \qquad f = I[t,c]\,A_1[h,w] + (1 - I[t,c])\,A_2[h,w]

and for MA-SNN's attention f = a_t[t] a_c[c] a_s[h,w] [x > 0], which no neuromorphic chip and no
standard NIR node can compute (non-causal in time: f at step t depends on the whole window). The pass freezes f to its mean over
calibration samples, at a chosen granularity:

.. math::

    g_{tchw} = \mathbb{E}_n f_n[t,c,h,w], \quad g_{tc} = \mathrm{mean}_{hw}\, g_{tchw},
    \quad g_t = \mathrm{mean}_{chw}\, g_{tchw}

(shapes (T, C, H, W), (T, C, 1, 1), (T, 1, 1, 1)); then y[t] = g[t] ⊙ x[t]. Granularity ``c``,
g_c = mean_{thw} g_tchw repeated over t (shape (T, C, 1, 1), equal rows), is time-constant, so
``fold_static_gains`` folds it exactly into the synapse (standard NIR, no gain hardware). x includes the
synapse bias, so the gain scales the bias too (TimeGain docstring).

Calibration order: attention layers are fused one at a time in topological order, and layer ℓ is
calibrated on the graph in which the earlier layers are **already fused** (its input currents are
those the deployed network will produce), each factor computed with the exact float32 factor of the
model (``snnc.compiler.window_attention.factor``, summed over samples by ``factor_sums``) on the currents given
by the reference simulator
(:mod:`snnc.compiler.passes.probe`). ``upstream="exact"`` instead calibrates every layer on the
original graph (earlier attention layers exact).

The upstream runs once: the input currents probed for layer ℓ are kept (batch by batch) and layer ℓ+1
is probed from them, through layer ℓ's TimeGain (or exact attention), instead of from the frames
(:func:`snnc.compiler.passes.probe.probe_batches_from`: the same float32 currents, so the same gains).
Cost: one layer's input currents for all calibration samples are held at a time (paper size, 64 samples:
64·60·64·32·32 float32 ≈ 1.0 GB for the first layer), released batch by batch as the next layer uses them.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, node_kind, topological_order
from snnc.compiler.window_attention import factor_sums, is_attention, rectifies
from snnc.compiler.passes.base import PassError, PassRecord, register_pass
from snnc.compiler.passes.probe import probe_batches, probe_batches_from

GRANULARITIES = ("t", "tc", "tchw", "c")
#: chosen from the measurement in docs/results.md §2 (bench/asa_gain_granularity.py).
DEFAULT_GRANULARITY = "tc"


def reduce_gain(mean_tchw: np.ndarray, granularity: str) -> np.ndarray:
    """The gain (T, C, H, W) / (T, C, 1, 1) / (T, 1, 1, 1) / time-constant (T, C, 1, 1) from the mean
    factor (T, C, H, W), for granularity tchw / tc / t / c."""
    if granularity == "tchw":
        return mean_tchw.copy()
    if granularity == "tc":
        return mean_tchw.mean(axis=(2, 3), keepdims=True)
    if granularity == "t":
        return mean_tchw.mean(axis=(1, 2, 3), keepdims=True)
    if granularity == "c":
        per_c = mean_tchw.mean(axis=(0, 2, 3), keepdims=True)
        return np.repeat(per_c, mean_tchw.shape[0], axis=0)
    raise PassError(f"granularity: unknown granularity {granularity!r}; "
                    f"choose one of {', '.join(GRANULARITIES)}")


def mean_factor(node: nir.NIRNode, batches: Iterable[np.ndarray], rectify: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard deviation) over samples of the attention factor, each (T, C, H, W) float64, from
    batches of currents [n, T, C, H, W]; ``rectify``: of its gate without the final ReLU."""
    total = total_sq = None
    n = 0
    for currents in batches:
        s, sq = factor_sums(node, currents, rectify)
        total = s if total is None else total + s
        total_sq = sq if total_sq is None else total_sq + sq
        n += len(currents)
    # C order whatever the currents' memory layout was, so that the float means of the gain and of the
    # spread (the pass record's statistics) are summed in one order
    mean = np.ascontiguousarray(total / n)
    return mean, np.ascontiguousarray(np.sqrt(np.maximum(total_sq / n - mean * mean, 0.0)))


def _kept(batches: Iterable[np.ndarray], store: list[np.ndarray] | None) -> Iterator[np.ndarray]:
    """``batches`` unchanged, each also appended to ``store`` (when given)."""
    for b in batches:
        if store is not None:
            store.append(b)
        yield b


def fused_from(node: nir.NIRNode) -> str:
    """The name of the attention a TimeGain replaces: "ASA" or "MultiDimAttention:<dims>"."""
    kind = node_kind(node)
    return kind if kind == "ASA" else f"{kind}:{node.dims}"


@register_pass
def fuse_asa_gains(graph: nir.NIRGraph, *, calibration: np.ndarray | None = None,
                   granularity: str = DEFAULT_GRANULARITY, upstream: str = "fused", rectify: bool = True,
                   run: Callable[..., Any] | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> tuple[nir.NIRGraph, PassRecord]:
    """Replace each attention node by a TimeGain calibrated on frames ``calibration`` [N, T, *input shape].

    ``rectify``: keep the ReLU of MA-SNN's attention as ``TimeGain.rectify`` (y = g·max(x, 0), g the mean
    gate a_t a_c a_s); False (targets without input rectification: Lava, fixed point) drops it and uses the
    mean of the whole factor a_t a_c a_s [x > 0] as a plain gain."""
    reduce_gain(np.ones((1, 1, 1, 1)), granularity)  # validates the name
    if upstream not in ("fused", "exact"):
        raise PassError(f"fuse_asa_gains: upstream must be 'fused' or 'exact', got {upstream!r}")
    g = copy_graph(graph)
    rec = PassRecord("fuse_asa_gains")
    asa_nodes = [n for n in topological_order(g) if is_attention(g.nodes[n])]
    if not asa_nodes:
        rec.summary = "no attention node"
        return g, rec
    if calibration is None or len(calibration) == 0:
        raise PassError("fuse_asa_gains: needs calibration frames (--calibrate N with N >= 1)")
    if run is None:
        raise PassError("fuse_asa_gains: needs an interpreter to probe the calibration frames (PipelineContext.run)")
    reference = copy_graph(graph)
    previous: tuple[str, list[np.ndarray]] | None = None  # (last calibrated node, its input currents per batch)
    for k, name in enumerate(asa_nodes):
        node = g.nodes[name]
        source = g if upstream == "fused" else reference
        report = None if progress is None else (lambda done, _n=name: progress(_n, done, len(calibration)))
        keep_relu = rectify and rectifies(node)
        if previous is None:
            batches = probe_batches(source, name, calibration, run=run, progress=report)
        else:
            batches = probe_batches_from(source, name, *previous, calibration, run=run, progress=report)
        store = [] if k + 1 < len(asa_nodes) else None
        mean, std = mean_factor(node, _kept(batches, store), keep_relu)
        previous = None if store is None else (name, store)
        gain = reduce_gain(mean, granularity).astype(np.float32)
        meta = dict(node.metadata or {})
        meta["snnc"] = {**meta.get("snnc", {}), "fused_from": fused_from(node), "granularity": granularity,
                        "relu": "kept (rectify)" if keep_relu else ("dropped" if rectifies(node) else "none"),
                        "calibration_samples": int(len(calibration)), "upstream": upstream}
        g.nodes[name] = ext.TimeGain(gain=gain, shape=node.shape, metadata=meta, rectify=keep_relu)
        rec.changed.append(name)
        rec.deltas[name] = {"gain_min": float(gain.min()), "gain_max": float(gain.max()),
                            "gain_mean": float(gain.mean()), "factor_std_over_samples": float(std.mean()),
                            "relu": meta["snnc"]["relu"],
                            "gain_shape": list(gain.shape)}
    rec.details = {"granularity": granularity, "calibration_samples": int(len(calibration)), "upstream": upstream}
    rec.summary = (f"{len(rec.changed)} attention node(s) -> TimeGain ({granularity}, calibrated on "
                   f"{len(calibration)} samples, upstream {upstream})")
    return g, rec
