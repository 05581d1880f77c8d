"""Sensitivity of the default compile (lava pipeline: ASA -> tc gains, fixed point) to the calibration set.

    OMP_NUM_THREADS=1 .venv/bin/python bench/asa_calibration_sweep.py

Uses the demo ASA model cached by bench/asa_gain_granularity.py (build/passes/asa.pt). For
calibration sizes N and calibration seeds s, compiles with ``select_passes("lava")`` (snnc timing)
and measures accuracy and prediction agreement on the 400 held-out synthetic test samples (seed 0)
against the float model with exact ASA. Prints a markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

from snnc.backends.cpu import run as cpu_run

REPO = Path(__file__).resolve().parents[1]
CKPT = REPO / "build" / "passes" / "asa.pt"


def main() -> None:
    if not CKPT.exists():
        sys.exit(f"{CKPT} missing: run bench/asa_gain_granularity.py first (it trains the demo model)")
    from snnc.compiler import fidelity
    from snnc.compile_model import load_frames
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.frontends import load_graph

    source = load_graph(CKPT)
    x, y = load_frames(source, "synthetic", "test", 400, 0)
    ref = fidelity.run_batched(source, x, run=cpu_run)
    names = select_passes("lava", fixed_point=True)
    print("| calibration samples | seed | accuracy | Δ vs exact ASA [points] | prediction agreement |")
    print("|---|---|---|---|---|")
    for n in (1, 8, 64, 256):
        for seed in (0, 1, 2):
            calib, _ = load_frames(source, "synthetic", "train", n, seed)
            g, _ = run_pipeline(source, names, pipeline_options("lava", names),
                                context=PipelineContext(run=cpu_run, calibration=calib))
            fid = fidelity.measure(source, g, x, y, reference_run=ref, run=cpu_run)
            print(f"| {n} | {seed} | {fid['accuracy']:.4f} | {fid['accuracy_delta_points']:+.2f} | "
                  f"{fid['prediction_agreement']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
