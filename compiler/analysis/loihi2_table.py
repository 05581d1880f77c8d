"""The Loihi 2 resource report (:func:`snnc.compiler.analysis.loihi2_resources.loihi2_resources`) as markdown."""

from __future__ import annotations

from typing import Any

COLUMNS = ("layer", "synapses", "neurons", "fan-in", "fan-out", "w bits", "synapses (logical)", "weights stored",
           "syn. bits / core", "in-axons / core", "cores", "binds")


def _n(v: Any) -> str:
    return "—" if v is None else f"{v:,}" if isinstance(v, int) else str(v)


def layer_cells(row: dict[str, Any]) -> list[str]:
    """The cells of one layer row, in :data:`COLUMNS` order."""
    return [row["name"], row["synapses"] or "—", _n(row["neurons"]), _n(row["fan_in"]), _n(row["fan_out"]),
            _n(row["weight_bits"]), _n(row["synapses_logical"]), _n(row.get("weights_stored")),
            _n(row.get("synapse_bits_per_core")), _n(row.get("in_axons_per_core")),
            _n(row["cores"]) if row["mappable"] else "does not map", ", ".join(row["binding"]) or "—"]


def summary_line(res: dict[str, Any]) -> str:
    t = res["totals"]
    fits = "yes" if t["fits_one_chip"] else "no"
    extra = f"; layers that do not map: {', '.join(t['unmapped'])}" if t["unmapped"] else ""
    return (f"total: {t['cores']:,} neurocores, {t['compartments']:,} compartments, {t['weights_stored']:,} weights "
            f"stored; chips needed: {t['chips']}; fits one chip: {fits}{extra}")


def limits_markdown(res: dict[str, Any]) -> list[str]:
    lines = ["| limit | value | status | source |", "|---|---:|---|---|"]
    for lim in res["limits"]:
        lines.append(f"| `{lim['name']}` | {lim['value']:,} | {lim['status']} | {lim['source']} |")
    return lines


def resources_markdown(res: dict[str, Any], *, heading: str = "##", with_limits: bool = True) -> str:
    """Layer table, totals, notes and (``with_limits``) the limits with their sources."""
    lines = [f"{heading} Loihi 2 resources (model: docs/design.md, 'Loihi 2 resource report'; 'assumed' limits "
             "are not public)", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|---|---|" + "---:|" * (len(COLUMNS) - 3) + "---|"]
    for row in res["layers"]:
        lines.append("| " + " | ".join(layer_cells(row)) + " |")
        for note in row["notes"]:
            lines.append(f"|  | *{note}* |" + " |" * (len(COLUMNS) - 2))
    lines += ["", summary_line(res), ""]
    lines += [f"- {n}" for n in res["notes"]]
    if with_limits:
        lines += ["", "Limits:", ""] + limits_markdown(res)
    return "\n".join(lines) + "\n"
