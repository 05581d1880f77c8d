r"""``quantize``: float graph -> Loihi 2 fixed point, exactly Lava 0.10.0's ``fixed_pt`` models.

The integer encoders are those of :mod:`snnc.compiler.fixed_point` (shared with the simulators).
Per spiking population ℓ fed by synapses W (optionally through a TimeGain G), with float LIF
v_t = β v'_{t−1} + g·I_t, threshold θ, and a per-layer scale s (membrane unit 1/(64 s)):

.. math::

    W_{int} = 2\,\mathrm{round}(g s W / 2) \in [-256, 254]
    \quad(\text{8-bit signed, even: Lava's mixed-sign Dense drops the LSB})

    du = 4095\ (\text{no current memory}), \quad dv = \mathrm{round}((1-β)\,4096), \quad vth = \mathrm{round}(θ s)

    bias\_mant = \mathrm{round}(g s b \bar G), \quad bias\_exp = 6,

    G \to gain\_mant = \mathrm{round}(G\,2^{k}),\ gain\_shift = k

so that Lava's integer state (u = a_in << 6, v = v·(4096 − dv) >> 12 + u + bias_mant << 6,
spike v > vth << 6) tracks 64·s times the float membrane. The bias lives in the neuron (Lava), so a
time-varying gain G_t cannot scale it per step: it is scaled by the mean gain Ḡ over t (per
neuron); the record reports max |b (G_t − Ḡ)|.

Scale choice (per population, all its synapses share it): the largest s with no weight clipping
(|g s W| ≤ 254), ``bias_mant`` within 13 bits, vth ≤ 131071 and, on calibration data, 24-bit
headroom with a factor 2 margin: 64 s max|W x| < 2^23 (u wraps) and 64 s V < 2^23 with
V = max|I|/(1 − β) + θ (v saturates). ``weight_scale`` forces s (netx uses 64); weights that then
overflow fail the pass naming the layer unless ``clip_weights`` (then they clip, with a warning and a
count). With ``clip_weights`` and no forced scale, s is set by the 99.9th percentile of |W| instead
of the maximum.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, node_kind, predecessors, successors
from snnc.compiler.ir.kinds import SYNAPSE_KINDS as SYNAPSES
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.passes.base import PassError, PassRecord, register_pass
from snnc.compiler.fixed_point import (
    BIAS_EXP_DEFAULT,
    BIAS_MANT_MAX,
    BIAS_MANT_MIN,
    UV_MAX,
    VTH_MAX,
    bias_to_mant,
    decay_to_int,
    encode_gain,
    vth_to_int,
    max_weight_scale,
    weights_to_int,
)
from snnc.compiler.passes.probe import probe_max_abs
from snnc.compiler.neuron_params import neuron_params

STATE_MAX = UV_MAX - 1  # u, v are 24-bit signed
HEADROOM_MARGIN = 2.0


def _lif_params(name: str, node: nir.NIRNode, dt: float) -> tuple[float, float, np.ndarray]:
    """(β, g, θ per neuron) of a float LIF or IF (β = 1) node (:func:`snnc.compiler.neuron_params.neuron_params`)."""
    if node_kind(node) not in ("LIF", "IF"):
        raise PassError(f"quantize: node {name!r} ({node_kind(node)}) cannot be quantized; only LIF and IF are")
    v_reset = np.asarray(0.0 if node.v_reset is None else node.v_reset, np.float64)
    if np.any(v_reset != 0) or np.any(np.asarray(getattr(node, "v_leak", 0.0)) != 0):
        raise PassError(f"quantize: LIF {name!r} needs v_reset = 0 and v_leak = 0 (Loihi resets to 0, no leak input)")
    p = neuron_params(node, dt, name)
    beta = np.ones(1) if p.beta is None else np.asarray(p.beta, np.float64)  # IF: no decay
    if np.ptp(beta) or np.ptp(p.gain):
        raise PassError(f"quantize: LIF {name!r} has per-neuron time constants; Loihi's du/dv are per population")
    return float(beta.flat[0]), float(p.gain.flat[0]), np.asarray(node.v_threshold, np.float64)


def _inputs(g: nir.NIRGraph, neuron: str) -> tuple[list[str], str | None]:
    """(synapse names, TimeGain name or None) feeding ``neuron``; PassError for anything else."""
    pred = predecessors(g)
    succ = successors(g)
    tg = None
    sources = pred[neuron]
    if len(sources) == 1 and node_kind(g.nodes[sources[0]]) == "TimeGain":
        tg = sources[0]
        sources = pred[tg]
    for s in sources:
        if node_kind(g.nodes[s]) not in SYNAPSES:
            raise PassError(f"quantize: {neuron!r} receives {s!r} ({node_kind(g.nodes[s])}); Loihi neurons take "
                            "synapses (Conv2d/Affine), optionally through one TimeGain")
        if len(succ[s]) != 1:
            raise PassError(f"quantize: synapse {s!r} feeds several nodes; it needs one target population")
    return sources, tg


def _synapse_bias(g, syns):
    return sum(np.asarray(g.nodes[s].bias, np.float64) if node_kind(g.nodes[s]) != "Linear" else 0.0 for s in syns)


def _probe_all(g, neurons: list[str], calibration, run) -> dict | None:
    """Every maximum :func:`_headroom_limit` needs, from one run of the float graph per calibration batch:
    ("i", neuron) -> max|I| (the LIF's input) and ("wx", neuron) -> max|W x| (TimeGain input, or the LIF
    input, minus the synapse bias). None without calibration data."""
    if calibration is None or len(calibration) == 0:
        return None
    if run is None:
        raise PassError("quantize: needs an interpreter to probe the calibration frames (PipelineContext.run)")
    requests = {}
    for n in neurons:
        syns, tg = _inputs(g, n)
        requests[("i", n)] = (n, None)
        requests[("wx", n)] = (tg if tg is not None else n, _synapse_bias(g, syns))
    return probe_max_abs(g, requests, calibration, run=run)


def _headroom_limit(maxima, neuron, beta, lif_gain, theta) -> tuple[float, dict]:
    """Largest scale allowed by 24-bit state on calibration data (inf without data), from :func:`_probe_all`."""
    if maxima is None:
        return float("inf"), {}
    i_max = maxima[("i", neuron)]  # I = G (W x + b): what the LIF integrates (before g)
    wx = maxima[("wx", neuron)] * abs(lif_gain)  # |W x|, the synaptic a_in
    leak = 1.0 - beta if beta < 1.0 else 1.0  # IF (β = 1): below threshold v grows by at most one input per step
    v = i_max * abs(lif_gain) / max(leak, 1e-6) + float(np.max(theta))
    limit = STATE_MAX / (64.0 * HEADROOM_MARGIN * max(wx, v, 1e-12))
    return limit, {"max_abs_wx": wx, "v_bound": v}


def _mean_gain(tg_node, shape) -> np.ndarray:
    if tg_node is None:
        return np.ones(shape)
    return np.broadcast_to(np.asarray(tg_node.gain, np.float64).mean(axis=0), shape)


def _refuse_unquantizable(graph: nir.NIRGraph, typed: nir.NIRGraph) -> None:
    """PassError for the first node quantize cannot map (attention and BatchNorm not yet removed, a rectifying
    TimeGain, CubaLIF, LI) or a graph already in fixed point."""
    for name, node in typed.nodes.items():
        kind = node_kind(node)
        if kind in ("ASA", "MultiDimAttention", "BatchNorm"):
            raise PassError(f"quantize: node {name!r} ({kind}) must be removed first "
                            f"({'fold_batchnorm' if kind == 'BatchNorm' else 'fuse_asa_gains'})")
        if kind == "TimeGain" and node.rectify:
            raise PassError(f"quantize: TimeGain {name!r} rectifies its input (MA-SNN attention's ReLU), which "
                            "Loihi's LIF cannot do; fuse with rectify=False (what the lava target does) or use --float")
        if kind in ("CubaLIF", "LI"):
            raise PassError(f"quantize: node {name!r} ({kind}) has no fixed-point mapping yet (only LIF and IF)")
    if ((graph.metadata or {}).get("snnc") or {}).get("numerics") == "fixed":
        raise PassError("quantize: the graph is already fixed point")


def _population_bias(typed: nir.NIRGraph, syns: list[str], lif_gain: float, shape) -> np.ndarray:
    """Σ g·b over the synapses feeding a population, broadcast to its per-step shape."""
    bias = np.zeros(shape)
    for s in syns:
        if node_kind(typed.nodes[s]) != "Linear":
            b = np.asarray(typed.nodes[s].bias, np.float64) * lif_gain
            bias = bias + b.reshape(b.shape + (1,) * (len(shape) - 1))
    return bias


def _choose_scale(wall: np.ndarray, theta: np.ndarray, bias_eff: np.ndarray, headroom: float,
                  weight_scale: float | None, clip_weights: bool) -> float:
    """The population's scale: the given one, else the smallest of the weight, threshold, headroom and bias limits."""
    if weight_scale is not None:
        return float(weight_scale)
    limits = [max_weight_scale(wall, 99.9 if clip_weights else None),
              VTH_MAX / max(float(theta.max()), 1e-12), headroom]
    if np.any(bias_eff):
        limits.append(BIAS_MANT_MAX / float(np.max(np.abs(bias_eff))))
    return min(limits)


def _quantize_synapses(typed, g, rec: PassRecord, syns: list[str], weights: list[np.ndarray], scale: float,
                       lif_gain: float, clip_weights: bool) -> tuple[int, float]:
    """Integer weights (8 bits, even) of every synapse into ``g``; (weights clipped, max |Δw|)."""
    clipped_total, max_dw = 0, 0.0
    for s, w in zip(syns, weights):
        w_int, clipped = weights_to_int(w, scale, clip=clip_weights)
        if clipped and not clip_weights:
            raise PassError(f"quantize: layer {s!r}: {clipped} weight(s) overflow 8 bits at scale {scale:g} "
                            "(max |w|·scale > 254); use --clip-weights to clip them")
        if clipped:
            rec.warnings.append(f"{s}: clipped {clipped} weight(s) to 8 bits")
        clipped_total += clipped
        max_dw = max(max_dw, float(np.max(np.abs(w_int / scale - w))))
        old = typed.nodes[s]
        meta = dict(old.metadata or {})
        meta["snnc"] = {**meta.get("snnc", {}), "scale": float(scale), "weight_bits": 8, "lif_gain": lif_gain}
        bias0 = np.zeros(w_int.shape[0], np.float32)
        if isinstance(old, nir.Conv2d):
            g.nodes[s] = nir.Conv2d(input_shape=old.input_shape, weight=w_int.astype(np.float32), stride=old.stride,
                                    padding=old.padding, dilation=old.dilation, groups=old.groups, bias=bias0,
                                    metadata=meta)
        else:
            g.nodes[s] = nir.Affine(weight=w_int.astype(np.float32), bias=bias0, metadata=meta)
        rec.changed.append(s)
    return clipped_total, max_dw


def _bias_fixed(rec: PassRecord, neuron: str, bias_eff: np.ndarray, scale: float,
                clip_weights: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """(bias_mant, bias_exp, number clipped) of the population's bias at ``scale`` (13-bit mantissas)."""
    mant = np.round(bias_eff * scale)
    bias_clipped = int(np.sum((mant > BIAS_MANT_MAX) | (mant < BIAS_MANT_MIN)))
    if bias_clipped and not clip_weights:
        raise PassError(f"quantize: layer {neuron!r}: {bias_clipped} bias(es) overflow 13 bits at scale {scale:g}; "
                        "use --clip-weights to clip them")
    if bias_clipped:
        rec.warnings.append(f"{neuron}: clipped {bias_clipped} bias mantissa(s) to 13 bits")
        bias_mant = np.clip(mant, BIAS_MANT_MIN, BIAS_MANT_MAX).astype(np.int64)
        return bias_mant, np.full(bias_mant.shape, BIAS_EXP_DEFAULT, np.int64), bias_clipped
    bias_mant, bias_exp = bias_to_mant(bias_eff, scale, BIAS_EXP_DEFAULT)
    return bias_mant, bias_exp, bias_clipped


def _quantize_gain(typed, g, rec: PassRecord, tg: str, g_mean: np.ndarray, bias: np.ndarray) -> dict:
    """The TimeGain feeding a population in fixed point (mantissas and a shift); its report fields."""
    gn = typed.nodes[tg]
    mant, shift = encode_gain(gn.gain)
    g.nodes[tg] = ext.TimeGain(gain=gn.gain, gain_mant=mant, gain_shift=shift, shape=gn.shape,
                               metadata=dict(gn.metadata or {}))
    rec.changed.append(tg)
    dgain = np.asarray(gn.gain, np.float64) - g_mean[None]
    return {"gain_shift": shift, "max_abs_dgain": float(np.max(np.abs(mant / 2.0**shift - gn.gain))),
            "bias_gain_error": float(np.max(np.abs(bias[None] * dgain))) if np.any(bias) else 0.0}


def _quantize_population(typed, g, rec: PassRecord, neuron: str, dt: float, maxima, weight_scale: float | None,
                         clip_weights: bool) -> dict:
    """One LIF/IF population and the synapses (and TimeGain) feeding it into ``g``; its report fields."""
    node = typed.nodes[neuron]
    beta, lif_gain, theta = _lif_params(neuron, node, dt)
    syns, tg = _inputs(typed, neuron)
    shape = shape_of(typed, neuron, "input")
    weights = [np.asarray(typed.nodes[s].weight, np.float64) * lif_gain for s in syns]
    wall = np.concatenate([w.ravel() for w in weights])
    g_mean = _mean_gain(typed.nodes[tg] if tg else None, shape)
    bias = _population_bias(typed, syns, lif_gain, shape)
    bias_eff = bias * g_mean
    if np.ptp(theta):
        raise PassError(f"quantize: LIF {neuron!r} has per-neuron thresholds; Loihi's vth is per population")
    headroom, probe_info = _headroom_limit(maxima, neuron, beta, lif_gain, theta)
    scale = _choose_scale(wall, theta, bias_eff, headroom, weight_scale, clip_weights)
    clipped_total, max_dw = _quantize_synapses(typed, g, rec, syns, weights, scale, lif_gain, clip_weights)
    bias_mant, bias_exp, bias_clipped = _bias_fixed(rec, neuron, bias_eff, scale, clip_weights)
    try:
        vth = vth_to_int(float(theta.flat[0]), scale)
    except ValueError as e:
        raise PassError(f"quantize: layer {neuron!r}: {e}") from None
    dv = decay_to_int(beta)
    meta = {**dict(node.metadata or {}), "snnc": {"scale": float(scale), "beta": beta, "gain": lif_gain,
                                                  "v_th": float(theta.flat[0])}}
    g.nodes[neuron] = ext.LoihiLIF(du=4095, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp,
                                   shape=np.array(shape), source=node_kind(node), metadata=meta)
    rec.changed.append(neuron)
    info = {"synapses": syns, "scale": scale, "vth": vth, "dv": dv, "beta_effective": (4096 - dv) / 4096,
            "weights_clipped": clipped_total, "bias_clipped": bias_clipped, "max_abs_dw": max_dw,
            "weight_levels_used": int(np.unique(np.round(wall * scale / 2)).size),
            **probe_info}
    if probe_info:
        info["a_in_max"] = float(probe_info["max_abs_wx"] * scale)  # largest synaptic message |W_int x|
        info["headroom_bits"] = float(np.log2(STATE_MAX / (64.0 * scale * max(probe_info["max_abs_wx"],
                                                                             probe_info["v_bound"], 1e-12))))
    if tg is not None:
        info.update(_quantize_gain(typed, g, rec, tg, g_mean, bias))
    return info


@register_pass
def quantize(graph: nir.NIRGraph, *, calibration: np.ndarray | None = None, clip_weights: bool = False,
             weight_scale: float | None = None,
             run: Callable[..., Any] | None = None) -> tuple[nir.NIRGraph, PassRecord]:
    """Float LIF/synapse/TimeGain graph -> LoihiLIF, integer weights, fixed gains (module docstring)."""
    typed = infer_shapes(graph)
    _refuse_unquantizable(graph, typed)
    g = copy_graph(typed)
    rec = PassRecord("quantize")
    dt = float(((graph.metadata or {}).get("snnc") or {}).get("dt", 1e-3))
    neurons = sorted(n for n, node in typed.nodes.items() if node_kind(node) in ("LIF", "IF"))
    for neuron in neurons:
        _lif_params(neuron, typed.nodes[neuron], dt)  # refuse what cannot be quantized before probing
        _inputs(typed, neuron)
    maxima = _probe_all(typed, neurons, calibration, run)
    for neuron in neurons:
        rec.deltas[neuron] = _quantize_population(typed, g, rec, neuron, dt, maxima, weight_scale, clip_weights)
    meta = dict(g.metadata or {})
    meta["snnc"] = {**meta.get("snnc", {}), "numerics": "fixed", "threshold": ">"}
    g.metadata = meta
    clipped = sum(d["weights_clipped"] for d in rec.deltas.values())
    headroom = min((d["headroom_bits"] for d in rec.deltas.values() if "headroom_bits" in d), default=None)
    rec.summary = (f"{len(rec.deltas)} population(s) -> LoihiLIF; 8-bit even weights; {clipped} weight(s) clipped; "
                   + (f"min 24-bit headroom {headroom:.1f} bits on calibration data" if headroom is not None
                      else "headroom not measured (no calibration data)"))
    return g, rec
