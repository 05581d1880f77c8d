"""The float parameters of a neuron node at step dt: the one derivation every backend and ``quantize`` use.

docs/design.md §3.3; forward Euler with a = dt/τ per neuron (:func:`snnc.compiler.timestep.step_fraction`):

- ``LIF``, ``LI``: β = 1 − a, g = a·r, leak = a·v_leak. When ``metadata["snnc"]`` holds both ``beta`` and
  ``gain`` (the model's float32 values, written by the frontends), β and g are those values and dt/τ is
  not checked (they do not depend on dt); the leak still uses a.
- ``IF``: g = r; no decay (β is None), no leak.
- ``CubaLIF`` (snnTorch ``Synaptic``): α = 1 − a_s, g_s = a_s·w_in with a_s = dt/τ_syn; β = 1 − a_m,
  g = a_m·r, leak = a_m·v_leak with a_m = dt/τ_mem; α, g_s, β, g are the exact float32
  ``metadata["snnc"]`` ``alpha``/``syn_gain``/``beta``/``gain`` when all four are present.

Every a that a result depends on must lie in (0, 1] (:func:`snnc.compiler.timestep.check_step`).
Values are float64 arrays: computed ones 0-d when every neuron has the same value (:func:`uniform`),
metadata ones float32 numbers held in float64 with their own shape. A backend casts them to its dtype
(float32 for the cpu simulator and ONNX: the same rounding everywhere). ``leak`` is None when v_leak is
zero everywhere.

Per-node semantics (``metadata["snnc"]`` ``threshold``/``reset``/``fire``, written by
:mod:`snnc.frontends.conventions`) are read by :func:`node_semantics` and :func:`fire_order`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.timestep import check_step, step_fraction
from snnc.errors import SnncError

THRESHOLDS = (">", ">=")
RESETS = ("zero", "subtract", "subtract_after_decay")
FIRE_ORDERS = ("after_integrate", "before_integrate")
DT_HINT = "give it with --dt / run(dt=...)"


@dataclass(frozen=True)
class NeuronParams:
    """v = β·v + g·x (+ leak) of one float neuron node (module docstring); CubaLIF first
    i = α·i + g_s·x and integrates i."""

    kind: str
    beta: np.ndarray | None  # None for IF (v = v + g·x)
    gain: np.ndarray
    leak: np.ndarray | None = None
    alpha: np.ndarray | None = None  # CubaLIF only
    syn_gain: np.ndarray | None = None  # CubaLIF only
    exact: bool = False  # β, g (and α, g_s) are the float32 values of metadata["snnc"]


def uniform(a) -> np.ndarray:
    """``a`` as float64; 0-d when all entries are equal."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.size and np.all(arr == arr.flat[0]):
        arr = np.asarray(arr.flat[0])
    return arr


def _exact(meta: dict, key: str) -> np.ndarray:
    """A metadata value as the float32 number it is, held in float64 (shape kept)."""
    return np.asarray(np.float32(meta[key]), np.float64)


def _leak(a: np.ndarray, node: nir.NIRNode) -> np.ndarray | None:
    return uniform(a * np.asarray(node.v_leak, np.float64)) if np.any(np.asarray(node.v_leak) != 0) else None


def neuron_params(node: nir.NIRNode, dt: float, name: str = "?", hint: str = DT_HINT) -> NeuronParams:
    """The float parameters of ``node`` (LIF, IF, CubaLIF or LI) at step ``dt`` (module docstring);
    SnncError naming the node when a dt/τ lies outside (0, 1]."""
    kind = node_kind(node)
    meta = (node.metadata or {}).get("snnc") or {}
    if kind == "IF":
        return NeuronParams(kind, None, uniform(node.r))
    if kind in ("LIF", "LI"):
        a = step_fraction(dt, node.tau)
        if "beta" in meta and "gain" in meta:
            return NeuronParams(kind, _exact(meta, "beta"), _exact(meta, "gain"), _leak(a, node), exact=True)
        check_step(name, a, dt, "tau", hint=hint)
        return NeuronParams(kind, uniform(1.0 - a), uniform(a * np.asarray(node.r, np.float64)), _leak(a, node))
    if kind == "CubaLIF":
        a_s, a_m = step_fraction(dt, node.tau_syn), step_fraction(dt, node.tau_mem)
        check_step(name, a_s, dt, "tau_syn", hint=hint)
        check_step(name, a_m, dt, "tau_mem", hint=hint)
        if all(k in meta for k in ("alpha", "syn_gain", "beta", "gain")):
            return NeuronParams(kind, _exact(meta, "beta"), _exact(meta, "gain"), _leak(a_m, node),
                                _exact(meta, "alpha"), _exact(meta, "syn_gain"), exact=True)
        return NeuronParams(kind, uniform(1.0 - a_m), uniform(a_m * np.asarray(node.r, np.float64)), _leak(a_m, node),
                            uniform(1.0 - a_s), uniform(a_s * np.asarray(node.w_in, np.float64)))
    raise ValueError(f"not a float neuron: {kind} (one of FLOAT_NEURON_KINDS, snnc.compiler.ir.kinds)")


def node_semantics(node: nir.NIRNode, threshold: str, reset: str, name: str = "?") -> tuple[str, str]:
    """(threshold, reset) of one neuron: the graph's, unless ``node.metadata["snnc"]`` overrides them
    (per-node ``"threshold"`` / ``"reset"``, written by :mod:`snnc.frontends.conventions`).

    ``"subtract_after_decay"`` (snnTorch ``reset_delay=True``): v_t = β·v_{t−1} + x_t − θ·s_{t−1}, where
    ``"subtract"`` is v_t = β·(v_{t−1} − θ·s_{t−1}) + x_t."""
    meta = (node.metadata or {}).get("snnc") or {}
    threshold, reset = meta.get("threshold", threshold), meta.get("reset", reset)
    if threshold not in THRESHOLDS or reset not in RESETS:
        raise SnncError(f"node {name!r}: unknown neuron semantics threshold={threshold!r} reset={reset!r} "
                        f"(threshold '>' or '>=', reset one of {', '.join(RESETS)})")
    return threshold, reset


def fire_order(node: nir.NIRNode, name: str = "?") -> str:
    """``metadata["snnc"]["fire"]`` of a neuron ("before_integrate", Spyx: the spike emitted at t is the
    one of v_{t−1}), default ``"after_integrate"``."""
    fire = str(((node.metadata or {}).get("snnc") or {}).get("fire", "after_integrate"))
    if fire not in FIRE_ORDERS:
        raise SnncError(f"node {name!r}: unknown fire order {fire!r} (one of {', '.join(FIRE_ORDERS)})")
    return fire
