"""``apply_convention(graph, name)``: undo the known deviations of one framework's NIR exporter.

snnc reads NIR as docs/design.md §3.3 says (forward Euler, a = dt/τ; reset to ``v_reset``; spike when
v > θ). Some exporters write files whose nodes their own simulator runs differently. A convention
rewrites the graph (a copy; the input is never mutated) so that snnc's cpu simulator runs it as the
framework does: graph ``metadata["snnc"]["dt"]`` for a dt the exporter hard-codes, per-node
``metadata["snnc"]`` semantics the simulator honours (``reset``, ``threshold``, ``fire``: see
:func:`snnc.compiler.neuron_params.node_semantics`; exact float32 factors ``beta``/``gain`` for LIF,
``alpha``/``syn_gain``/``beta``/``gain`` for CubaLIF, with τ, r, w_in rewritten to match them), and
corrected parameters. Every deviation below names the framework source file it comes from;
docs/interop.md lists them with the measured agreement (tests/frontends/test_frontends_interop.py).

Only the cpu simulator runs per-node semantics: :func:`refuse_cpu_only_semantics` stops other targets.
"""

from __future__ import annotations

import copy
from typing import Callable

import nir
import numpy as np

from snnc.compiler.ir.graph_utils import make_graph, node_kind
from snnc.errors import SnncError

CONVENTIONS = ("snntorch", "sinabs", "rockpool", "spyx", "norse")


def _set_node_meta(node: nir.NIRNode, **values) -> None:
    meta = dict(node.metadata or {})
    meta["snnc"] = {**dict(meta.get("snnc") or {}), **values}
    node.metadata = meta


def _exact_lif(node: nir.NIRNode, dt: float, beta, gain, **semantics) -> None:
    """LIF with decay β and input gain g per step at ``dt``: τ = dt/(1 − β), r = g/(1 − β) (so that the
    Euler reading of docs/design.md §3.3 is the same update) and the float32 β, g in metadata."""
    beta = np.broadcast_to(np.asarray(beta, np.float32), np.shape(node.tau))
    gain = np.broadcast_to(np.asarray(gain, np.float32), np.shape(node.tau))
    node.tau = dt / (1.0 - beta.astype(np.float64))
    node.r = gain.astype(np.float64) / (1.0 - beta.astype(np.float64))
    _set_node_meta(node, beta=np.array(beta), gain=np.array(gain), **semantics)


def _exact_cuba(node: nir.NIRNode, dt: float, alpha, syn_gain, beta, gain, **semantics) -> None:
    """CubaLIF with i = α·i + g_s·x, v = β·v + g·i per step at ``dt``: τ_syn = dt/(1 − α),
    w_in = g_s/(1 − α), τ_mem = dt/(1 − β), r = g/(1 − β), and the float32 factors in metadata."""
    shape = np.shape(node.tau_mem)
    f = {k: np.array(np.broadcast_to(np.asarray(v, np.float32), shape))
         for k, v in (("alpha", alpha), ("syn_gain", syn_gain), ("beta", beta), ("gain", gain))}
    node.tau_syn = dt / (1.0 - f["alpha"].astype(np.float64))
    node.w_in = f["syn_gain"].astype(np.float64) / (1.0 - f["alpha"].astype(np.float64))
    node.tau_mem = dt / (1.0 - f["beta"].astype(np.float64))
    node.r = f["gain"].astype(np.float64) / (1.0 - f["beta"].astype(np.float64))
    _set_node_meta(node, **f, **semantics)


def _f32_decay(dt: float, tau) -> np.ndarray:
    """1 − dt/τ rounded to float32: the exporter wrote τ = dt/(1 − β) in float32, so this is β again."""
    return (1.0 - np.float64(dt) / np.asarray(tau, np.float64)).astype(np.float32)


# --- snnTorch 1.0.0 ---------------------------------------------------------------------------------------
SNNTORCH_DT = 1e-4  # snntorch/export_nir.py: `dt = 1e-4` for Leaky, Synaptic, RLeaky, RSynaptic


def _snntorch(nodes: dict, meta: dict, edges: list) -> None:
    """snntorch/export_nir.py writes Leaky as LIF(tau = dt/(1−β), r = tau/dt, v_leak = 0, v_reset = 0) and
    Synaptic as CubaLIF(tau_syn = dt/(1−α), tau_mem = dt/(1−β), r = tau_mem/dt, w_in = tau_syn/dt), dt = 1e-4.
    snntorch/_neurons/leaky.py and synaptic.py run (defaults reset_mechanism="subtract", reset_delay=True):
    mem_t = β·mem_{t−1} + x_t − θ·[mem_{t−1} > θ] (syn_t = α·syn_{t−1} + x_t first for Synaptic);
    spk = mem > θ.
    So: dt = 1e-4; β, α back in float32 with unit gains (β·mem + x, no multiply); reset
    "subtract_after_decay" (the exporter's v_reset = 0 is not what its neuron does); the recurrent bias
    moved out of the cycle (:func:`_recurrent_bias_to_input`)."""
    meta["dt"] = SNNTORCH_DT
    _recurrent_bias_to_input(nodes, [(str(a), str(b)) for a, b in edges])
    for node in nodes.values():
        kind = node_kind(node)
        if kind == "LIF":
            _exact_lif(node, SNNTORCH_DT, _f32_decay(SNNTORCH_DT, node.tau), 1.0, reset="subtract_after_decay")
        elif kind == "CubaLIF":
            _exact_cuba(node, SNNTORCH_DT, _f32_decay(SNNTORCH_DT, node.tau_syn), 1.0,
                        _f32_decay(SNNTORCH_DT, node.tau_mem), 1.0, reset="subtract_after_decay")


def _recurrent_bias_to_input(nodes: dict, edges: list) -> None:
    """RLeaky/RSynaptic add ``recurrent(spk)`` = W·s_{t−1} + b every step, b included at t = 0
    (snntorch/_neurons/rleaky.py ``_base_state_function``), while snnc's recurrent edge carries 0 at t = 0
    (backends/cpu/stepwise.py). The bias of a recurrent Affine (neuron -> Affine -> same neuron) is moved
    to the neuron's single feed-forward Affine, which adds it at every step including t = 0."""
    for name, node in list(nodes.items()):
        if node_kind(node) != "Affine" or not np.any(np.asarray(node.bias) != 0):
            continue
        loops = [b for a, b in edges if a == name and (b, name) in edges and node_kind(nodes[b]) in ("LIF", "CubaLIF")]
        if len(loops) != 1:
            continue
        feed = [a for a, b in edges if b == loops[0] and a != name]
        if len(feed) != 1 or node_kind(nodes[feed[0]]) != "Affine" or sum(a == feed[0] for a, _ in edges) != 1:
            continue
        ff = nodes[feed[0]]
        ff.bias = (np.asarray(ff.bias, np.float32) + np.asarray(node.bias, np.float32)).astype(np.float32)
        nodes[name] = nir.Linear(weight=np.asarray(node.weight), metadata=dict(node.metadata or {}))


# --- Norse 1.1.0 ------------------------------------------------------------------------------------------
NORSE_DT = 1e-3  # norse/torch/utils/export_nir.py: to_nir(..., dt=0.001), and every Norse cell's default dt


def _norse(nodes: dict, meta: dict, edges: list) -> None:
    """norse/torch/utils/export_nir.py writes ``tau = dt / tau_mem_inv`` (and ``dt / tau_syn_inv``) for
    LIFBoxCell -> LIF, LIBoxCell -> LI, LIFCell -> CubaLIF: dt·τ instead of τ (Norse issue #411), with
    dt = 1e-3 by default. So τ = tau / dt. Norse's LIFCell (norse/torch/functional/lif.py,
    ``lif_feed_forward_step``) adds its input to the synaptic current as a jump, i = i + x, where NIR's
    CubaLIF integrates it, i += dt/τ_syn·(w_in·x − i); the exporter writes w_in = 1. So w_in = τ_syn/dt
    (a unit jump). Leaky updates are forward Euler as snnc's (lif_box.py: v += dt·τ⁻¹·(x + v_leak − v))."""
    meta["dt"] = NORSE_DT
    for node in nodes.values():
        kind = node_kind(node)
        if kind in ("LIF", "LI"):
            node.tau = np.asarray(node.tau, np.float64) / NORSE_DT
        elif kind == "CubaLIF":
            node.tau_mem = np.asarray(node.tau_mem, np.float64) / NORSE_DT
            node.tau_syn = np.asarray(node.tau_syn, np.float64) / NORSE_DT
            node.w_in = node.tau_syn / NORSE_DT


# --- Sinabs 3.1.3 -----------------------------------------------------------------------------------------
def _exp_decay(tau) -> np.ndarray:
    """exp(−1/τ) exactly as Sinabs computes it (sinabs/layers/lif.py: torch.exp(-1.0 / tau_mem), float32)."""
    import torch

    return torch.exp(-1.0 / torch.as_tensor(np.asarray(tau), dtype=torch.float32)).numpy()


def _sinabs(nodes: dict, meta: dict, edges: list) -> None:
    """sinabs/nir.py (``to_nir``) writes LIF/LIFSqueeze as LIF(tau = tau_mem, r = 1, v_leak = 0) and IAF as
    IF(r = 1, v_threshold), with nir 1.0.4. sinabs/layers/functional/lif.py (``lif_forward_single``) runs
    v = α·v + (1 − α)·x with α = exp(−1/tau_mem) (tau in *steps*, exact exponential decay, and
    ``norm_input=True``, the LIF default the exporter does not record; IAF: α = 1, no norm);
    sinabs/activation/spike_generation.py fires at v ≥ θ (SingleSpike: v − θ ≥ 0; MultiSpike: ⌊v/θ⌋
    spikes, several per step, which no NIR node expresses); reset_mechanism.py MembraneSubtract:
    v −= θ·spikes. So: dt = 1 step; LIF β = exp(−1/τ), gain 1 − β (float32); threshold ">="; reset
    "subtract" on every spiking node."""
    meta["dt"] = 1.0
    for node in nodes.values():
        kind = node_kind(node)
        if kind == "LIF":
            beta = _exp_decay(node.tau)
            _exact_lif(node, 1.0, beta, (np.float32(1.0) - beta).astype(np.float32), threshold=">=", reset="subtract")
        elif kind == "IF":  # sinabs/nir.py exports no CubaLIF (a LIF's tau_syn is dropped)
            _set_node_meta(node, threshold=">=", reset="subtract")


# --- Rockpool 3.1.0 ---------------------------------------------------------------------------------------
ROCKPOOL_DT = 1e-3  # rockpool/nn/modules/torch/lif_torch.py, lif_neuron_torch.py: `dt: P_float = 1e-3`, not exported


def _exp_decay_dt(dt: float, tau) -> np.ndarray:
    """exp(−dt/τ) exactly as Rockpool computes it (``tau_to_decay``: torch.exp(-dt / tau), float32)."""
    import torch

    return torch.exp(-dt / torch.as_tensor(np.asarray(tau), dtype=torch.float32)).numpy()


def _rockpool(nodes: dict, meta: dict, edges: list) -> None:
    """rockpool/nn/modules/torch/nir.py (``to_nir``) writes LIFNeuronTorch as LIF(tau, r = τ·e^(−dt/τ)/dt,
    v_leak = 0) and LIFTorch as CubaLIF(tau_syn, tau_mem, r = τ_mem·e^(−dt/τ_mem)/dt, w_in = 1, v_leak = 0),
    dropping the module's dt (default 1 ms) and its bias. lif_neuron_torch.py runs v = e^(−dt/τ)·v + x;
    lif_torch.py runs i = i + x; v = e^(−dt/τ_mem)·v; i = e^(−dt/τ_syn)·i; v = v + i (exact exponential
    decay, the input jumps into i and decays once before reaching v). Both fire ⌊v/θ⌋ spikes where v ≥ θ
    (StepPWL, clamped to ``max_spikes_per_dt``, default 2^16: binary only with max_spikes_per_dt = 1) and
    subtract θ per spike. With j = i + x (the current before its decay): j = e_s·j + x and v = e_m·v + e_s·j,
    which is snnc's CubaLIF with alpha = e_s, syn_gain = 1, beta = e_m, gain = e_s. So: dt = 1 ms; these
    float32 factors; threshold ">="; reset "subtract"."""
    meta["dt"] = ROCKPOOL_DT
    for node in nodes.values():
        kind = node_kind(node)
        if kind == "LIF":
            _exact_lif(node, ROCKPOOL_DT, _exp_decay_dt(ROCKPOOL_DT, node.tau), 1.0, threshold=">=", reset="subtract")
        elif kind == "CubaLIF":
            e_syn = _exp_decay_dt(ROCKPOOL_DT, node.tau_syn)
            _exact_cuba(node, ROCKPOOL_DT, e_syn, 1.0, _exp_decay_dt(ROCKPOOL_DT, node.tau_mem), e_syn,
                        threshold=">=", reset="subtract")


# --- Spyx 1.0.0 -------------------------------------------------------------------------------------------
SPYX_DT = 1.0  # spyx/nir.py: to_nir(model, input_shape, output_shape, dt=1)


def _hwc_to_chw_columns(weight: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Columns of a weight that reads a channels-last (H, W, C) flattening, reordered for (C, H, W)."""
    c, h, w = chw
    order = np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()
    return np.asarray(weight)[:, order]


def _spyx(nodes: dict, meta: dict, edges: list) -> None:
    """spyx/nir.py (``to_nir``, dt = 1) writes LIF(tau = dt/(1−β), r = β, v_leak = 0), IF(r = 1) and
    CubaLIF(tau_syn = dt/(1−α), tau_mem = dt/(1−β), r = β, w_in = 1): the Euler reading would scale the input by
    (1 − β)·β. spyx/nn.py runs channels-last and *fires before it integrates*: LIF ``spikes = H(V − θ);
    V = β·V + x − spikes·θ`` (IF: β = 1), CuBaLIF ``spikes = H(V − θ); V = V − spikes·θ; I = α·I + x;
    V = β·V + I`` (H(x) = x > 0, spyx/axn.py). That is snnTorch's update for LIF/IF (reset
    "subtract_after_decay") and snnc's "subtract" for CuBaLIF, with every spike emitted one step later
    (fire "before_integrate"). spyx.nn.Flatten flattens (H, W, C) while the exported Flatten declares (C, H, W):
    the Affine/Linear after a 3-D Flatten gets its columns reordered from HWC to CHW."""
    meta["dt"] = SPYX_DT
    for name, node in nodes.items():
        kind = node_kind(node)
        if kind == "LIF":
            _exact_lif(node, SPYX_DT, _f32_decay(SPYX_DT, node.tau), 1.0, reset="subtract_after_decay",
                       fire="before_integrate")
        elif kind == "IF":
            _set_node_meta(node, reset="subtract_after_decay", fire="before_integrate")
        elif kind == "CubaLIF":
            _exact_cuba(node, SPYX_DT, _f32_decay(SPYX_DT, node.tau_syn), 1.0, _f32_decay(SPYX_DT, node.tau_mem), 1.0,
                        reset="subtract", fire="before_integrate")
        elif kind == "Flatten":
            chw = tuple(int(d) for d in np.ravel(np.asarray((node.input_type or {}).get("input", ()))))
            if len(chw) != 3:
                continue
            for a, b in edges:
                if str(a) == str(name) and node_kind(nodes[b]) in ("Affine", "Linear"):
                    nodes[b].weight = _hwc_to_chw_columns(nodes[b].weight, chw)


_RULES: dict[str, Callable[[dict, dict, list], None]] = {
    "spyx": _spyx,
    "rockpool": _rockpool,
    "snntorch": _snntorch,
    "norse": _norse,
    "sinabs": _sinabs,
}


SEMANTIC_KEYS = ("threshold", "reset", "fire")


def per_node_semantics(graph: nir.NIRGraph) -> dict[str, dict[str, str]]:
    """{node: {"threshold"/"reset": value}} of the neurons whose ``metadata["snnc"]`` overrides the graph's."""
    out = {}
    for name, node in graph.nodes.items():
        meta = (node.metadata or {}).get("snnc") or {}
        found = {k: str(meta[k]) for k in SEMANTIC_KEYS if k in meta}
        if found:
            out[str(name)] = found
    return out


def refuse_cpu_only_semantics(graph: nir.NIRGraph, what: str) -> None:
    """SnncError when ``graph`` holds per-node neuron semantics, which only the cpu simulator runs."""
    nodes = per_node_semantics(graph)
    if nodes:
        name = sorted(nodes)[0]
        raise SnncError(f"{what}: node {name!r} has per-node neuron semantics {nodes[name]} (from --convention "
                        f"{((graph.metadata or {}).get('snnc') or {}).get('convention')}) that only the cpu "
                        "simulator runs; use --target cpu / --backend cpu")


def _notes(name: str, graph: nir.NIRGraph, meta: dict) -> list[str]:
    sem = per_node_semantics(graph)
    kinds = sorted({f"{k}={v}" for s in sem.values() for k, v in s.items()})
    text = f"--convention {name}: dt = {meta.get('dt'):g} s"
    if sem:
        text += f"; {len(sem)} neuron node{'s' if len(sem) != 1 else ''} with {', '.join(kinds)}"
    return [text + " (docs/interop.md)"]


def apply_convention(graph: nir.NIRGraph, name: str | None) -> nir.NIRGraph:
    """A copy of ``graph`` that snnc runs as framework ``name`` runs it (``None``: the graph itself)."""
    if name is None:
        return graph
    if name not in CONVENTIONS:
        raise SnncError(f"--convention: unknown convention {name!r} (one of {', '.join(CONVENTIONS)})")
    rule = _RULES.get(name)
    if rule is None:
        raise SnncError(f"--convention: {name!r} has no recorded deviations yet (see docs/interop.md)")
    nodes = {k: copy.deepcopy(v) for k, v in graph.nodes.items()}
    gmeta = copy.deepcopy(dict(graph.metadata or {}))
    snnc_meta = dict(gmeta.get("snnc") or {})
    rule(nodes, snnc_meta, list(graph.edges))
    snnc_meta["convention"] = name
    gmeta["snnc"] = snnc_meta
    out = make_graph(nodes, graph.edges, gmeta)
    snnc_meta["source_notes"] = list(snnc_meta.get("source_notes") or []) + _notes(name, out, snnc_meta)
    return out
