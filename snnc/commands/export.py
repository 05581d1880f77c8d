"""``snnc export MODEL -o OUT.nir [--strict]``: write a model as NIR that other frameworks read.

BatchNorm is folded into the preceding conv/FC first (``snnc.compiler.passes.fold_batchnorm``
when available, else :func:`snnc.compiler.ir.bn_fold.fold_batchnorm_local`). Nodes with no
standard NIR form (ASA, MaxPool2d, TimeGain, LoihiLIF, an unfoldable BatchNorm) are listed;
``--strict`` refuses them (nothing is written), otherwise they are stored as snnc extension
placeholders that stock ``nir.read`` opens and ``snnc`` restores exactly.
"""

from __future__ import annotations

import click


def _fold(g):
    """BatchNorm folded (passes' ``fold_batchnorm`` returns (graph, record)); unfoldable BNs stay."""
    from snnc.compiler.ir.bn_fold import fold_batchnorm_local
    from snnc.errors import SnncError

    try:
        from snnc.compiler.passes.fold_batchnorm import fold_batchnorm
    except ImportError:
        return fold_batchnorm_local(g)
    try:
        out = fold_batchnorm(g)
    except SnncError:  # a BN it refuses to fold: fold what the local helper can, report the rest
        return fold_batchnorm_local(g)
    return out[0] if isinstance(out, tuple) else out


def export_file(model: str, out: str, strict: bool = False) -> list[str]:
    """Export ``model`` to ``out``; return the notes about nodes without a standard form."""
    from snnc.compiler.ir import export_standard, verify, write_graph
    from snnc.errors import SnncError
    from snnc.frontends import load_graph
    from snnc.io import check_writable_target

    check_writable_target(out)
    g = _fold(load_graph(model))
    verify(g)
    std, notes = export_standard(g)
    if notes and strict:
        raise SnncError(f"{model}: --strict: {len(notes)} node(s) have no standard NIR form: " + "; ".join(notes))
    write_graph(out, std)
    return notes


def load_threshold(path: str) -> str | None:
    """The written graph's ``metadata['snnc']['threshold']`` (None if absent)."""
    from snnc.compiler.ir import read_graph

    return ((read_graph(path).metadata or {}).get("snnc") or {}).get("threshold")


@click.command("export")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="The .nir file to write.")
@click.option("--strict", is_flag=True, help="Refuse nodes with no standard NIR form instead of storing extensions.")
def command(model: str, out: str, strict: bool) -> None:
    """Write MODEL (checkpoint or .nir) as a NIR file for other frameworks."""
    notes = export_file(model, out, strict)
    for note in notes:
        click.echo(f"no standard form: {note} (stored as an snnc extension placeholder)", err=True)
    if ((load_threshold(out) or "") == ">="):
        click.echo("note: this model fires at v >= v_th (metadata['snnc']['threshold']); stock NIR tools fire at "
                   "v > v_th", err=True)
    kind = "standard NIR only" if not notes else f"{len(notes)} extension node(s)"
    click.echo(f"wrote {out} ({kind})")
