"""The Loihi 2 resource table for docs/results.md: the demo LIF-SNN-3 and the paper-size LIF-SNN-3, LIF-SNN-5
and Res-SNN-18 (ASA attention), per layer and in total, with every limit's source.

    OMP_NUM_THREADS=1 .venv/bin/python bench/loihi2_resource_table.py [--full]

Each model is built untrained with ``torch.manual_seed(0)`` and turned into the IR; the chip targets' structural
passes (``fold_batchnorm``, ``fuse_pooling``) give the layers the chip holds; ASA is counted as folded into the
weights (per-channel gains, ``--gain-granularity c``). Resources do not depend on weight values except the weight
bits: the float weights here count as 8 bits (what ``quantize`` stores at most), so the numbers are the 8-bit
upper bound. ``--full`` prints every column of the report instead of the compact table.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from snnc.compiler.analysis.loihi2_resources import loihi2_resources
from snnc.compiler.analysis.loihi2_table import limits_markdown, resources_markdown, summary_line
from snnc.compiler.pipeline import run_pipeline
from snnc.frontends import model_to_graph
from snnc.models import lif_snn3, lif_snn5, res_snn18
from snnc.models.registry import complete_config, demo_config

PASSES = ["fold_batchnorm", "fuse_pooling"]
BUILDERS = {"lif-snn-3": lif_snn3.build_lif_snn3, "lif-snn-5": lif_snn5.build_lif_snn5,
            "res-snn-18": res_snn18.build_res_snn18}
MODELS = [
    ("LIF-SNN-3 demo (8/16/16, FC 64, 8 classes, 2x32x32)", demo_config("asa")),
    ("LIF-SNN-3 paper (64/128/128, FC 256, 11 classes, 2x32x32)", {"model": "lif-snn-3"}),
    ("LIF-SNN-5 paper (5 x 128, FC 512, 110 vote outputs, 2x128x128)", {"model": "lif-snn-5"}),
    ("Res-SNN-18 paper (64/128/256/512, 300 classes, 2x128x128)", {"model": "res-snn-18"}),
]


def chip_graph(config: dict):
    """The model of ``config`` (untrained, seed 0) as the IR after the chip targets' structural passes.

    Built through the model's own builder: the registry's size guard refuses the paper LIF-SNN-5 by a rough
    parameter estimate (its real FC1 is 128·4·4 -> 512)."""
    full = complete_config(config)
    torch.manual_seed(0)
    model = BUILDERS[full["model"]](full).eval()
    graph, _ = run_pipeline(model_to_graph(model), PASSES)
    return graph


def compact(title: str, res: dict) -> str:
    lines = [f"#### {title}", "", "| layer | synapses | neurons | fan-in | weights stored | cores | binds |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in res["layers"]:
        cores = f"{r['cores']:,}" if r["mappable"] else "does not map"
        split = r["split"] or {}
        parts = f" (fan-in split x{split['fan_in_parts']})" if split.get("fan_in_parts", 1) > 1 else ""
        stored = "—" if r["weights_stored"] is None else f"{r['weights_stored']:,}"
        lines.append(f"| {r['name']} | {r['synapses']}{parts} | {r['neurons']:,} | {r['fan_in']:,} | {stored} | "
                     f"{cores} | {', '.join(r['binding']) or '—'} |")
    t = res["totals"]
    lines.append(f"| **total** | | {t['compartments']:,} | | {t['weights_stored']:,} | **{t['cores']:,}** | |")
    return "\n".join(lines + ["", summary_line(res), ""])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="all columns of the report")
    args = ap.parse_args(argv)
    res = None
    for title, config in MODELS:
        t0 = time.perf_counter()
        res = loihi2_resources(chip_graph(config))
        print(resources_markdown(res, heading=f"### {title}:", with_limits=False) if args.full else compact(title, res))
        print(f"<!-- {title}: built and analysed in {time.perf_counter() - t0:.1f} s -->\n", file=sys.stderr)
    print("Limits (each with its source; 'assumed' = not public for Loihi 2):\n")
    print("\n".join(limits_markdown(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
