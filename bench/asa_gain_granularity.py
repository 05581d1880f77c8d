"""Measure ASA fusion and fixed point on the demo ASA model: accuracy and per-layer spikes.

    OMP_NUM_THREADS=1 .venv/bin/python bench/asa_gain_granularity.py [--calibrate 64] [--holdout 256]

Trains the demo ASA LIF-SNN-3 once (``snnc train --attention asa --seed 0``, cached in
build/passes/asa.pt), then compiles it with (a) exact ASA (float), (b) fused gains per t, (t, c),
(t, c, h, w) (float), (c) fused gains + Loihi fixed point, and measures each on held-out synthetic
samples against (a) with the reference simulator (snnc timing). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from snnc.backends.cpu import run as cpu_run

REPO = Path(__file__).resolve().parents[1]
CKPT = REPO / "build" / "passes" / "asa.pt"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calibrate", type=int, default=64)
    ap.add_argument("--holdout", type=int, default=256)
    ap.add_argument("--json", default=str(REPO / "build" / "passes" / "granularity.json"))
    args = ap.parse_args()
    if not CKPT.exists():
        CKPT.parent.mkdir(parents=True, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "snnc.cli", "train", "--attention", "asa", "--seed", "0",
                               "-o", str(CKPT)])
    from snnc.compiler import fidelity
    from snnc.compile_model import load_frames
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.frontends import load_graph

    source = load_graph(CKPT)
    calib, _ = load_frames(source, "synthetic", "train", args.calibrate, 0)
    x, y = load_frames(source, "synthetic", "test", args.holdout, 0)
    t0 = time.perf_counter()
    ref_run = fidelity.run_batched(source, x, run=cpu_run)
    print(f"reference run: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    rows = []
    configs = [("(a) exact ASA, float", "exact", "tc", False)]
    configs += [(f"(b) fused {g}, float", "fused", g, False) for g in ("t", "tc", "tchw", "c")]
    configs += [(f"(c) fused {g}, fixed point", "fused", g, True) for g in ("t", "tc", "tchw", "c")]
    for label, mode, gran, fixed in configs:
        names = select_passes("cpu", asa_mode=mode, fixed_point=fixed)
        t0 = time.perf_counter()
        g, _ = run_pipeline(source, names, pipeline_options("cpu", names, fuse_asa_gains={"granularity": gran}),
                            context=PipelineContext(run=cpu_run, calibration=calib))
        fid = fidelity.measure(source, g, x, y, reference_run=ref_run, run=cpu_run)
        gains = sum(int(np.asarray(n.gain).size) for n in g.nodes.values() if type(n).__name__ == "TimeGain")
        gains = gains if gran != "c" else 0  # folded into the synapses by fold_static_gains
        fid.update(label=label, passes=names, seconds=time.perf_counter() - t0, gain_values=gains)
        rows.append(fid)
        print(f"{label}: acc {fid['accuracy']:.4f} ({fid['accuracy_delta_points']:+.2f})", file=sys.stderr)
    # ablation: is the gain needed at all?
    from snnc.compiler.ir import nodes as ext
    from snnc.compiler.ir.graph_utils import copy_graph

    names = select_passes("cpu")
    fused, _ = run_pipeline(source, names, pipeline_options("cpu", names, fuse_asa_gains={"granularity": "tc"}),
                            context=PipelineContext(run=cpu_run, calibration=calib))
    g = copy_graph(fused)
    for name, node in g.nodes.items():
        if type(node).__name__ == "TimeGain":
            g.nodes[name] = ext.TimeGain(gain=np.ones_like(node.gain), shape=node.shape)
    fid = fidelity.measure(source, g, x, y, reference_run=ref_run, run=cpu_run)
    fid.update(label="(d) ASA removed (gain 1)", passes=["ablation"], seconds=0.0, gain_values=0)
    rows.append(fid)
    Path(args.json).write_text(json.dumps(rows, indent=2))
    layers = list(rows[0]["layers"])
    print(f"held-out samples: {args.holdout}, calibration samples: {args.calibrate}\n")
    print("| configuration | gain values | accuracy | Δ vs (a) [points] | pred. agreement | " +
          " | ".join(f"{l} spikes Δ% / count agr." for l in layers) + " |")
    print("|---" * (5 + len(layers)) + "|")
    for r in rows:
        cells = [f"{100 * r['layers'][l]['rel_diff']:+.1f}% / {r['layers'][l]['count_agreement']:.3f}" for l in layers]
        print(f"| {r['label']} | {r['gain_values']} | {r['accuracy']:.4f} | {r['accuracy_delta_points']:+.2f} | "
              f"{r['prediction_agreement']:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
