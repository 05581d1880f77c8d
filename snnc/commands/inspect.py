"""``snnc inspect FILE [--json] [--target loihi2]``: the graph of a checkpoint or NIR file as a table.

One row per node: kind, input -> output shape, parameters, spiking neurons, FLOPs per step
(ASA-SNN Table S2: conv k²·h·w·c_in·c_out with h×w the conv's output map before pooling;
FC i·o), then totals. ``--json`` prints the same data as JSON. ``--target loihi2`` shows the Loihi 2
resource report instead (:mod:`snnc.compiler.analysis.loihi2_resources`, after the chip targets'
structural passes ``fold_batchnorm``, ``fuse_pooling``).
"""

from __future__ import annotations

import json
from typing import Any

import click

FLOPS_CONVENTION = ("FLOPs: ASA-SNN Table S2, MACs per timestep of the equivalent ANN; conv = k²·h·w·c_in·c_out "
                    "with h×w the conv's output map (before pooling), /groups for grouped convs; FC = i·o. "
                    "attn: ASA ΔMAC1 + ΔMAC2 per window (Table S1).")


def inspect_data(path: str, convention: str | None = None) -> dict[str, Any]:
    """Everything ``snnc inspect`` shows, as plain data."""
    from snnc.compiler.analysis import analyze, totals
    from snnc.compiler.passes.base import jsonable
    from snnc.frontends import load_graph

    g = load_graph(path, convention=convention)
    rows = analyze(g)
    return {
        "file": str(path),
        "metadata": jsonable(dict(g.metadata or {})),
        "flops_convention": FLOPS_CONVENTION,
        "nodes": [r.as_dict() for r in rows],
        "edges": [[a, b] for a, b in g.edges],
        "totals": totals(rows),
    }


#: the structural passes every chip target runs before attention fusion: the layers the chip holds
LOIHI2_PASSES = ["fold_batchnorm", "fuse_pooling"]


def loihi2_data(path: str, convention: str | None = None) -> dict[str, Any]:
    """``snnc inspect --target loihi2``: the Loihi 2 resource report of FILE after :data:`LOIHI2_PASSES`."""
    from snnc.compiler.analysis.loihi2_resources import loihi2_resources
    from snnc.compiler.pipeline import run_pipeline
    from snnc.frontends import load_graph

    g = load_graph(path, convention=convention)
    chip_graph, _ = run_pipeline(g, LOIHI2_PASSES)
    return {"file": str(path), "passes": LOIHI2_PASSES, **loihi2_resources(chip_graph)}


def _print_loihi2(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from snnc.compiler.analysis.loihi2_table import COLUMNS, layer_cells, summary_line

    console = Console(width=max(Console().width, 160))
    table = Table(title=f"{data['file']}  [Loihi 2 resources after {', '.join(data['passes'])}]",
                  caption=data["model"])
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("layer", "synapses", "binds") else "right")
    for row in data["layers"]:
        table.add_row(*layer_cells(row))
    console.print(table)
    console.print(summary_line(data), highlight=False, markup=False)
    for note in data["notes"] + [f"{r['name']}: {n}" for r in data["layers"] for n in r["notes"]]:
        console.print(f"note: {note}", highlight=False, markup=False)
    for lim in data["limits"]:
        console.print(f"limit {lim['name']} = {lim['value']:,} [{lim['status']}] {lim['source']}", highlight=False,
                      markup=False)


def _shape(s: list[int]) -> str:
    return "×".join(str(x) for x in s)


def _print_table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if console.width < 140:
        console = Console(width=140)
    meta = data["metadata"].get("snnc", {})
    title = f"{data['file']}"
    if meta:
        model = meta.get("model", {})
        bits = [f"T={meta.get('T')}", f"threshold {meta.get('threshold')}", f"readout {meta.get('readout', {}).get('kind')}"]
        if model:
            bits.insert(0, f"{model.get('model')} ({model.get('attention')})")
        title += "  [" + ", ".join(str(b) for b in bits) + "]"
    table = Table(title=title, caption=data["flops_convention"], show_lines=False)
    for col, justify in (("node", "left"), ("kind", "left"), ("input → output", "left"), ("params", "right"),
                         ("neurons", "right"), ("FLOPs", "right"), ("attn MACs", "right"), ("note", "left")):
        table.add_column(col, justify=justify, no_wrap=col != "note")
    for r in data["nodes"]:
        table.add_row(r["name"], r["kind"], f"{_shape(r['input_shape'])} → {_shape(r['output_shape'])}",
                      f"{r['params']:,}" if r["params"] else "", f"{r['neurons']:,}" if r["neurons"] else "",
                      f"{r['flops']:,}" if r["flops"] else "", f"{r['attn_macs']:,}" if r["attn_macs"] else "",
                      r["note"])
    t = data["totals"]
    table.add_row("total", f"{t['compute_nodes']} compute nodes", "", f"{t['params']:,}", f"{t['neurons']:,}",
                  f"{t['flops']:,}", f"{t['attn_macs']:,}" if t["attn_macs"] else "", "", style="bold")
    console.print(table)
    for note in meta.get("source_notes") or []:  # what the file's NIR version / exporter means (nir_versions)
        console.print(f"note: {note}", highlight=False)


@click.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--convention", default=None, type=click.Choice(["snntorch", "sinabs", "rockpool", "spyx", "norse"]),
              help="Read a .nir file as the framework that exported it runs it (docs/interop.md).")
@click.option("--target", default=None, type=click.Choice(["loihi2"]),
              help="loihi2: the Loihi 2 resource report instead (neurons, synapses, cores per layer, chips).")
def command(file: str, as_json: bool, convention: str | None = None, target: str | None = None) -> None:
    """Print FILE's graph (snnc checkpoint, released ASA-SNN state_dict or .nir): nodes, shapes,
    parameters, neurons and FLOPs per layer (Table S2); with --target loihi2 the Loihi 2 resources."""
    data = loihi2_data(file, convention) if target == "loihi2" else inspect_data(file, convention)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif target == "loihi2":
        _print_loihi2(data)
    else:
        _print_table(data)
