r"""Energy models: the ASA-SNN supplement's analytic AC/MAC model beside the energy of measured counts.

**Analytic (seed, Eq. S1, Table S2).** Per synapse layer n with Table S2 FLOPs FL_n (conv:
k²·h·w·c_in·c_out with h, w the conv's *own output map, before any following pooling* — the
reading most consistent with Table S3, docs/results.md §3; /groups applied; FC: i·o):

    FL_SNN,n = T · FL_n · Φ_n          Φ_n: LASFR of the spiking layer(s) feeding n (summed for
                                        residual sums); Φ^0 = fraction of non-zero input pixels
    E_Base   = E_MAC · FL_SNN,1 + E_AC · Σ_{n≥2} FL_SNN,n                                   (S1)
    Attention (Table S1): Δ_MAC = Σ_layers Δ_MAC1 + Δ_MAC2, e.g. ASA 2T²/r + 2·2·3·3·h·w + T·N  (S2)
               (every module: snnc.compiler.analysis.attention_cost)
    ΔE       = E_MAC · Δ_MAC − E_AC · Δ_AC,  Δ_AC = Σ_{AC layers} T·FL_n·(Φ_n^base − Φ_n)    (S3)
    r_REC    = ΔE / E_Base                                                                  (S4)

Layers fed by the graph input are MAC layers, every other synapse layer an AC layer.

**Measured (same constants).** E = E_MAC·(MAC_1 + executed attention multiplies) + E_AC·Σ SOP, with
SOP the exact event-driven count and MAC_1 = non-zero pixels × exact fan-out for a non-binary input
(a binary input layer counts its events as ACs).

**Ratio analytic / measured per layer** = (Φ_src/Φ_in) · (FL/FL_valid) · (f̄/f̄_S): the rate-location
factor (Φ taken at the previous spiking layer vs at the synapse's real input), the padding factor
(taps on zero padding) and the spatial factor (where the spikes fall; docs/results.md §3).

**Pipeline padding** (Lava timing, pipeline-aware readout, docs/design.md §3.4): each sample's window is
T + D steps. A layer runs its T active steps and rests (u = v = 0, silent) for the other D, so its
spikes and synaptic operations are the counts above; the D rest steps cost D·Σ n_k neuron updates per
sample (counted in the Loihi-flavoured total), no spikes, and input events that reach a synapse outside its
active steps (only where paths of different depths join) are listed as dropped.

**Loihi-flavoured alternative** ("loihi_davies2018"): 23.6 pJ per synaptic operation + 81 pJ per
neuron update (Davies et al., IEEE Micro 38(1), 2018, Table 2: minimum synaptic-spike-op energy and
active neuron update; pre-silicon figures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import nir

from snnc.compiler.analysis.counts import Counter, target_layer
from snnc.compiler.analysis.flops import analyze

E_MAC_PJ = 4.6
E_AC_PJ = 0.9
LOIHI_SYNOP_PJ = 23.6
LOIHI_NEURON_PJ = 81.0
HW_NOTE = "h, w of Table S2 = the conv's own output map (before any following pooling)"


@dataclass
class Constants:
    e_mac: float = E_MAC_PJ
    e_ac: float = E_AC_PJ


def _source_rate(counter: Counter, sources: list[str]) -> float:
    rate = 0.0
    for s in sources:
        rate += counter.input_rate() if s not in counter.layers else counter.lasfr(s)
    return rate


def layer_rows(graph: nir.NIRGraph, counter: Counter, k: Constants) -> list[dict]:
    """One row per synapse node: analytic and measured ops and energy (pJ per sample), ratio factors."""
    T = counter.T
    rows = []
    for st in analyze(graph):
        if st.name not in counter.synapses:
            continue
        sc = counter.synapses[st.name]
        first = any(s not in counter.layers for s in st.inputs_from)
        phi_src = _source_rate(counter, st.inputs_from)
        analytic = T * st.flops * phi_src
        mac_layer = first and not sc.binary
        measured = counter.per_sample(sc.mac if mac_layer else sc.sop)
        elems = max(1, sc.frames * int(np.prod(sc.in_shape)))
        phi_in = (sc.nonzero if mac_layer else sc.events) / elems
        fl_valid = sc.fl_valid
        padding = st.flops / fl_valid if fl_valid else float("nan")
        a_in = T * st.flops * phi_in
        target = target_layer(counter.g, st.name, counter.succ)
        row = {
            "name": st.name, "kind": st.kind, "target": target, "sources": list(st.inputs_from),
            "first": first, "op_analytic": "MAC" if first else "AC", "op_measured": "MAC" if mac_layer else "AC",
            "flops": int(st.flops), "fl_valid": fl_valid, "phi_src": phi_src, "phi_in": phi_in,
            "analytic_ops": analytic, "measured_ops": measured,
            "input_events": counter.per_sample(sc.events), "input_nonzero": counter.per_sample(sc.nonzero),
            "sop": counter.per_sample(sc.sop),
            "energy_analytic_pj": analytic * (k.e_mac if first else k.e_ac),
            "energy_measured_pj": measured * (k.e_mac if mac_layer else k.e_ac),
            "ratio": analytic / measured if measured else float("nan"),
            "rate_factor": phi_src / phi_in if phi_in else float("nan"),
            "padding_factor": padding,
            "spatial_factor": (a_in / measured) / padding if measured and padding else float("nan"),
            "note": st.note,
        }
        if target in counter.layers:
            lay = counter.layers[target]
            row.update(neurons=lay.neurons, spikes=counter.per_sample(lay.spikes), lasfr=counter.lasfr(target))
        rows.append(row)
    return rows


def attention_rows(counter: Counter, k: Constants) -> list[dict]:
    rows = []
    for name, m in counter.attention.items():
        target = target_layer(counter.g, name, counter.succ)
        rows.append({"name": name, "target": target, **m,
                     "energy_analytic_pj": k.e_mac * (m["table_s1_mac1"] + m["mac2"]),
                     "energy_measured_pj": k.e_mac * (m["executed_mac1"] + m["executed_mac2"])})
    return rows


def neuron_updates(counter: Counter) -> int:
    """Neuron updates per sample: T × neurons of every spiking layer."""
    return int(counter.T * sum(lay.neurons for lay in counter.layers.values()))


def pipeline_padding(counter: Counter, steps: int, dropped_input_events: dict | None = None) -> dict:
    """The D padded steps per sample of a pipeline-readout run (module docstring): neuron updates, spikes
    (none: every layer rests outside its T active steps), dropped input events per sample, Loihi energy."""
    updates = int(steps * sum(lay.neurons for lay in counter.layers.values()))
    dropped = {name: counter.per_sample(v) for name, v in sorted((dropped_input_events or {}).items())}
    return {"steps": int(steps), "neuron_updates": updates, "spikes": 0, "dropped_input_events": dropped,
            "energy_loihi_pj": LOIHI_NEURON_PJ * updates}


def energy_report(graph: nir.NIRGraph, counter: Counter, k: Constants | None = None,
                  padding: dict | None = None) -> dict:
    """Per-layer rows and totals (pJ per sample) of the analytic and the measured model. ``padding``
    (``{"steps": D, "dropped_input_events": {...}}`` of a pipeline-readout run) adds its neuron updates."""
    k = k or Constants()
    rows = layer_rows(graph, counter, k)
    attn = attention_rows(counter, k)
    updates = neuron_updates(counter)
    pad = None if padding is None else pipeline_padding(counter, padding["steps"], padding.get("dropped_input_events"))
    total_sop = sum(r["sop"] for r in rows)
    totals = {
        "analytic_mac": sum(r["analytic_ops"] for r in rows if r["op_analytic"] == "MAC"),
        "analytic_ac": sum(r["analytic_ops"] for r in rows if r["op_analytic"] == "AC"),
        "attention_mac_table_s1": sum(a["table_s1_mac1"] + a["mac2"] for a in attn),
        "measured_mac": sum(r["measured_ops"] for r in rows if r["op_measured"] == "MAC"),
        "measured_ac": sum(r["measured_ops"] for r in rows if r["op_measured"] == "AC"),
        "attention_mac_executed": sum(a["executed_mac1"] + a["executed_mac2"] for a in attn),
        "sop": total_sop, "neuron_updates": updates,
    }
    totals["energy_analytic_pj"] = (k.e_mac * (totals["analytic_mac"] + totals["attention_mac_table_s1"])
                                    + k.e_ac * totals["analytic_ac"])
    totals["energy_base_pj"] = k.e_mac * totals["analytic_mac"] + k.e_ac * totals["analytic_ac"]
    totals["energy_measured_pj"] = (k.e_mac * (totals["measured_mac"] + totals["attention_mac_executed"])
                                    + k.e_ac * totals["measured_ac"])
    totals["energy_loihi_pj"] = LOIHI_SYNOP_PJ * total_sop + LOIHI_NEURON_PJ * updates
    if pad is not None:
        totals["neuron_updates_padding"] = pad["neuron_updates"]
        totals["energy_loihi_pj"] += pad["energy_loihi_pj"]
    extra = {} if pad is None else {"pipeline_padding": pad}
    return {
        "constants": {"e_mac_pj": k.e_mac, "e_ac_pj": k.e_ac, "loihi_synop_pj": LOIHI_SYNOP_PJ,
                      "loihi_neuron_pj": LOIHI_NEURON_PJ},
        "hw_convention": HW_NOTE, "T": counter.T, "samples": counter.samples,
        "layers": rows, "attention": attn, "totals": totals, **extra,
    }


def compare_to_baseline(model: dict, base: dict, k: Constants | None = None) -> dict:
    """Eqs. S3–S4 of ``model`` (with attention) against ``base`` (vanilla), both from :func:`energy_report`.

    Δ_AC sums T·FL·(Φ_base − Φ_model) over the AC layers present in both (matched by name); the MAC
    layer's term cancels on the same data. Also the measured-energy change for comparison.
    """
    k = k or Constants()
    T = model["T"]
    base_rows = {r["name"]: r for r in base["layers"]}
    d_ac = sum(T * r["flops"] * (base_rows[r["name"]]["phi_src"] - r["phi_src"])
               for r in model["layers"] if r["op_analytic"] == "AC" and r["name"] in base_rows)
    d_mac = model["totals"]["attention_mac_table_s1"]
    e_base = base["totals"]["energy_base_pj"]
    delta = k.e_mac * d_mac - k.e_ac * d_ac
    m_base, m_model = base["totals"]["energy_measured_pj"], model["totals"]["energy_measured_pj"]
    return {"delta_mac": d_mac, "delta_ac": d_ac, "delta_e_pj": delta, "e_base_pj": e_base,
            "r_rec": delta / e_base if e_base else float("nan"),
            "measured_base_pj": m_base, "measured_model_pj": m_model,
            "measured_r": (m_model - m_base) / m_base if m_base else float("nan")}
