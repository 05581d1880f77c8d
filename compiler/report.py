"""The compile report: ``report.json`` (machine-readable) and ``report.md`` (for people).

Both come from the same dict: target, options, one entry per pass (its :class:`PassRecord`), node
counts before/after, and the fidelity measurement (:mod:`snnc.compiler.fidelity`).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import nir

from snnc.compiler.ir.graph_utils import node_kind
from snnc.compiler.passes.base import PassRecord, jsonable


def node_counts(g: nir.NIRGraph) -> dict[str, int]:
    """Node kind -> count."""
    return dict(sorted(Counter(node_kind(n) for n in g.nodes.values()).items()))


#: targets whose report carries the Loihi 2 resource table (compiler/analysis/loihi2_resources.py)
CHIP_TARGETS = ("lava", "loihi2", "netx")


def _loihi2_resources(after: nir.NIRGraph) -> dict[str, Any]:
    """The resource report of the compiled graph, or {"error": ...} (a report never fails the compile)."""
    from snnc.compiler.analysis.loihi2_resources import loihi2_resources
    from snnc.errors import SnncError

    try:
        return loihi2_resources(after)
    except SnncError as e:
        return {"error": str(e)}


def build_report(*, target: str, options: dict[str, Any], records: list[PassRecord], before: nir.NIRGraph,
                 after: nir.NIRGraph, fidelity: dict[str, Any] | None, notes: list[str]) -> dict[str, Any]:
    report = {
        "target": target, "options": options, "passes": [r.to_dict() for r in records],
        "nodes_before": node_counts(before), "nodes_after": node_counts(after),
        "fidelity": fidelity, "notes": notes,
    }
    if target in CHIP_TARGETS:
        report["loihi2_resources"] = _loihi2_resources(after)
    return jsonable(report)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: passes with what changed, node counts, fidelity table."""
    lines = [f"# snnc compile report: target `{report['target']}`", ""]
    lines += ["## Options", ""] + [f"- `{k}`: {_fmt(v)}" for k, v in report["options"].items()] + [""]
    lines += ["## Passes", ""]
    for p in report["passes"]:
        lines.append(f"### `{p['name']}` ({p['seconds']:.2f} s)")
        lines.append("")
        lines.append(p["summary"] or "(no summary)")
        for w in p["warnings"]:
            lines.append(f"- warning: {w}")
        if p["deltas"]:
            keys = sorted({k for d in p["deltas"].values() if isinstance(d, dict) for k in d
                           if not isinstance(d[k], (list, dict))})
            lines += ["", "| node | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
            for node, d in p["deltas"].items():
                if isinstance(d, dict):
                    lines.append(f"| {node} | " + " | ".join(_fmt(d.get(k, "")) for k in keys) + " |")
        lines.append("")
    lines += ["## Nodes", "", "| kind | before | after |", "|---|---|---|"]
    for kind in sorted(set(report["nodes_before"]) | set(report["nodes_after"])):
        lines.append(f"| {kind} | {report['nodes_before'].get(kind, 0)} | {report['nodes_after'].get(kind, 0)} |")
    fid = report.get("fidelity")
    lines += ["", "## Fidelity (held-out samples, reference: float model with exact ASA, snnc timing)", ""]
    if not fid:
        lines.append("not measured")
    else:
        lines.append(f"- samples: {fid['samples']}")
        if "accuracy" in fid:
            lines.append(f"- accuracy: reference {fid['accuracy_ref']:.4f}, compiled {fid['accuracy']:.4f} "
                         f"({fid['accuracy_delta_points']:+.2f} points)")
        lines.append(f"- prediction agreement: {fid['prediction_agreement']:.4f}")
        lines += ["", "| layer | spikes (ref) | spikes | rel. diff | step agreement | count agreement |",
                  "|---|---|---|---|---|---|"]
        for name, d in fid["layers"].items():
            lines.append(f"| {name} | {d['spikes_ref']:.0f} | {d['spikes']:.0f} | {d['rel_diff']:+.4f} | "
                         f"{d['step_agreement']:.4f} | {d['count_agreement']:.4f} |")
        lava = fid.get("lava_timing")
        if lava:
            how = ("pipeline-aware readout: D zero frames padded, output counted over steps D … T + D − 1"
                   if lava.get("readout") == "pipeline" else "unshifted readout: the last frames never reach the deep layers")
            lines += ["", f"Compiled graph under **lava timing** (one step of delay per synapse, as deployed; {how}):", ""]
            if "accuracy" in lava:
                lines.append(f"- accuracy {lava['accuracy']:.4f} ({lava['accuracy_delta_points']:+.2f} points), "
                             f"prediction agreement {lava['prediction_agreement']:.4f}")
            for name, d in lava["layers"].items():
                lines.append(f"- {name}: spikes {d['spikes']:.0f} vs {d['spikes_ref']:.0f} ({d['rel_diff']:+.4f})")
    res = report.get("loihi2_resources")
    if res:
        from snnc.compiler.analysis.loihi2_table import resources_markdown

        lines += [""] + ([f"## Loihi 2 resources\n\nnot available: {res['error']}"] if "error" in res
                         else [resources_markdown(res).rstrip("\n")])
    if report["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n"


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False, allow_nan=True) + "\n"
