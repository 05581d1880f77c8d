"""``snnc export MODEL -o OUT.nir [--strict]``: write a model as NIR that other frameworks read.

BatchNorm is folded into the preceding conv/FC first by the compiler's own
``snnc.compiler.passes.fold_batchnorm``; a graph with a BatchNorm that pass refuses is exported
unfolded. Nodes with no standard NIR form (ASA, MaxPool2d, TimeGain, LoihiLIF, an unfolded BatchNorm)
are listed; ``--strict`` refuses them (nothing is written), otherwise they are stored as snnc extension
placeholders that stock ``nir.read`` opens and ``snnc`` restores exactly.
"""

from __future__ import annotations

import click
import nir


def export_file(model: str, out: str, strict: bool = False) -> tuple[nir.NIRGraph, list[str]]:
    """Export ``model`` to ``out``; return the written graph and the notes about nodes without a
    standard form."""
    from snnc.compiler.ir import export_standard, verify, write_graph
    from snnc.compiler.passes.base import PassError
    from snnc.compiler.passes.fold_batchnorm import fold_batchnorm
    from snnc.errors import SnncError
    from snnc.frontends import load_graph
    from snnc.io import check_writable_target

    check_writable_target(out)
    g = load_graph(model)
    try:
        g, _ = fold_batchnorm(g)
    except PassError:
        pass  # the BatchNorm stays; export_standard lists it as having no standard form
    verify(g)
    std, notes = export_standard(g)
    if notes and strict:
        raise SnncError(f"{model}: --strict: {len(notes)} node(s) have no standard NIR form: " + "; ".join(notes))
    write_graph(out, std)
    return std, notes


@click.command("export")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="The .nir file to write.")
@click.option("--strict", is_flag=True, help="Refuse nodes with no standard NIR form instead of storing extensions.")
def command(model: str, out: str, strict: bool) -> None:
    """Write MODEL (checkpoint or .nir) as a NIR file for other frameworks."""
    from snnc.paths import guard_outputs

    with guard_outputs(inputs=[("MODEL", model)], outputs=[("-o", out)]):
        graph, notes = export_file(model, out, strict)
    for note in notes:
        click.echo(f"no standard form: {note} (stored as an snnc extension placeholder)", err=True)
    if ((graph.metadata or {}).get("snnc") or {}).get("threshold") == ">=":
        click.echo("note: this model fires at v >= v_th (metadata['snnc']['threshold']); stock NIR tools fire at "
                   "v > v_th", err=True)
    kind = "standard NIR only" if not notes else f"{len(notes)} extension node(s)"
    click.echo(f"wrote {out} ({kind})")
