"""Rich tables and a matplotlib figure for a ``simulate`` result (see :mod:`snnc.simulate_session`)."""

from __future__ import annotations

from pathlib import Path


def _num(v: float | int | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and v != v:
        return "nan"
    return f"{v:,.{digits}f}"


def _nj(pj: float) -> str:
    return f"{pj / 1e3:,.2f}"


def print_report(result: dict, console) -> None:
    from rich.table import Table

    head = (f"{result['source']}: {result['samples']} samples × T={result['T']} ({result['data']}), "
            f"backend {result['backend']}, timing {result['timing']}"
            + (f" ({result['readout']} readout)" if result.get("readout") else "") + f", {result['numerics']}")
    console.print(head)
    if "energy" not in result:
        t = Table(title="spiking layers (per sample)")
        for c in ("layer", "neurons", "spikes", "LASFR"):
            t.add_column(c, justify="right" if c != "layer" else "left")
        for lay in result["layers"]:
            t.add_row(lay["name"], _num(lay["neurons"]), _num(lay["spikes_per_sample"], 1), f"{lay['lasfr']:.4f}")
        console.print(t)
    else:
        e = result["energy"]
        t = Table(title=f"per layer, per sample (E_MAC {e['constants']['e_mac_pj']} pJ, E_AC {e['constants']['e_ac_pj']} pJ; "
                        f"{e['hw_convention']})")
        cols = ("synapse", "layer", "neurons", "spikes", "LASFR", "Φ_src", "FL", "analytic", "measured",
                "E analytic nJ", "E measured nJ", "ratio", "rate", "pad", "spatial")
        for c in cols:
            t.add_column(c, justify="left" if c in ("synapse", "layer") else "right")
        for r in e["layers"]:
            t.add_row(r["name"], str(r.get("target")), _num(r.get("neurons")), _num(r.get("spikes"), 1),
                      f"{r['lasfr']:.4f}" if "lasfr" in r else "-", f"{r['phi_src']:.4f}", _num(r["flops"]),
                      f"{_num(r['analytic_ops'])} {r['op_analytic']}", f"{_num(r['measured_ops'])} {r['op_measured']}",
                      _nj(r["energy_analytic_pj"]), _nj(r["energy_measured_pj"]), f"{r['ratio']:.3f}",
                      f"{r['rate_factor']:.3f}", f"{r['padding_factor']:.3f}", f"{r['spatial_factor']:.3f}")
        for a in e["attention"]:
            t.add_row(a["name"], str(a["target"]), "", "", "", "", "",
                      f"{_num(a['table_s1_mac1'] + a['mac2'])} MAC", f"{_num(a['executed_mac1'] + a['mac2'])} MAC",
                      _nj(a["energy_analytic_pj"]), _nj(a["energy_measured_pj"]), "", "", "", "")
        console.print(t)
        tot = e["totals"]
        console.print(f"totals per sample: analytic {_num(tot['analytic_mac'])} MAC + {_num(tot['analytic_ac'])} AC "
                      f"+ {_num(tot['attention_mac_table_s1'])} attention MAC = {_nj(tot['energy_analytic_pj'])} nJ; "
                      f"measured {_num(tot['measured_mac'])} MAC + {_num(tot['measured_ac'])} SOP "
                      f"+ {_num(tot['attention_mac_executed'])} attention MAC = {_nj(tot['energy_measured_pj'])} nJ; "
                      f"Loihi-flavoured (Davies 2018: 23.6 pJ/SOP + 81 pJ/update, {_num(tot['neuron_updates'])} updates) "
                      f"= {_nj(tot['energy_loihi_pj'])} nJ")
        if "pipeline_padding" in e:
            pad = e["pipeline_padding"]
            console.print(f"pipeline padding (lava timing, pipeline readout): {pad['steps']} steps per sample, "
                          f"{_num(pad['neuron_updates'])} neuron updates ({_nj(pad['energy_loihi_pj'])} nJ, in the "
                          f"Loihi-flavoured total), {pad['spikes']} spikes (layers rest outside their T steps)")
    console.print(f"NASFR {result['nasfr']:.4f}, input non-zero ratio {result['input_rate']:.4f}"
                  + (f", accuracy {result['accuracy']:.4f}" if result.get("accuracy") is not None else "")
                  + (f" ({result['backend']}; cpu reference on the same samples {result['accuracy_cpu']:.4f})"
                     if result.get("accuracy_cpu") is not None else ""))
    if "compare" in result:
        cmp = result["compare"]
        t = Table(title=f"agreement with the {cmp['against']} reference (all samples)")
        for c in ("layer", f"spikes {result['backend']}", f"spikes {cmp['against']}", "differing", "max |Δv|", "identical"):
            t.add_column(c, justify="left" if c == "layer" else "right")
        for r in cmp["layers"]:
            t.add_row(r["node"], _num(r["spikes_backend"]), _num(r["spikes_cpu"]), _num(r["differing"]),
                      f"{r['max_abs_dv']:.3g}" if "max_abs_dv" in r else "-", "yes" if r["identical"] else "NO")
        console.print(t)
        console.print(f"{result['backend']} vs {cmp['against']}: "
                      + ("all spikes identical" if cmp["identical"] else "spikes DIFFER"))
    if "comparison" in result:
        c = result["comparison"]
        b = result["baseline"]
        how = " compiled with the artifact's passes" if b.get("compiled_with") else ""
        console.print(f"vs baseline {b['source']}{how} (NASFR {b['nasfr']:.4f}): ΔMAC {_num(c['delta_mac'])}, "
                      f"ΔAC {_num(c['delta_ac'])}, ΔE {_nj(c['delta_e_pj'])} nJ, E_Base {_nj(c['e_base_pj'])} nJ, "
                      f"r_REC {100 * c['r_rec']:+.1f}% (Eq. S4); measured {_nj(c['measured_base_pj'])} → "
                      f"{_nj(c['measured_model_pj'])} nJ ({100 * c['measured_r']:+.1f}%)")


def plot_report(result: dict, path: Path) -> None:
    """Per-layer firing rates and energy bars (analytic vs measured; vanilla vs model with a baseline)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2 if "energy" in result else 1, figsize=(12, 4.5), squeeze=False)
    ax = axes[0][0]
    names = [lay["name"] for lay in result["layers"]]
    xs = np.arange(len(names))
    rates = [lay["lasfr"] for lay in result["layers"]]
    if "baseline" in result:
        base = {lay["name"]: lay["lasfr"] for lay in result["baseline"]["layers"]}
        ax.bar(xs - 0.2, [base.get(n, 0.0) for n in names], 0.4, label="baseline")
        ax.bar(xs + 0.2, rates, 0.4, label="model")
        ax.legend()
    else:
        ax.bar(xs, rates)
    ax.set_xticks(xs, names, rotation=45, ha="right")
    ax.set_ylabel("LASFR")
    ax.set_title("firing rate per spiking layer")
    if "energy" in result:
        ax = axes[0][1]
        rows = result["energy"]["layers"] + result["energy"]["attention"]  # attention: extra MACs per layer
        xs = np.arange(len(rows))
        series = [("analytic", [r["energy_analytic_pj"] / 1e3 for r in rows]),
                  ("measured", [r["energy_measured_pj"] / 1e3 for r in rows])]
        if "baseline" in result:
            brow = {r["name"]: r for r in result["baseline"]["energy"]["layers"]}
            series = [("baseline analytic", [brow.get(r["name"], {}).get("energy_analytic_pj", 0) / 1e3 for r in rows]),
                      ("baseline measured", [brow.get(r["name"], {}).get("energy_measured_pj", 0) / 1e3 for r in rows])
                      ] + series
        w = 0.8 / len(series)
        for i, (label, vals) in enumerate(series):
            ax.bar(xs - 0.4 + w * (i + 0.5), vals, w, label=label)
        ax.set_xticks(xs, [r["name"] for r in rows], rotation=45, ha="right")
        ax.set_ylabel("nJ per sample")
        ax.set_yscale("log")
        ax.set_title("synaptic energy per layer")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
