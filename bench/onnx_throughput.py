"""ONNX step model vs the CPU reference simulator on the demo LIF-SNN-3 (seeded, rate-scaled, compiled).

    OMP_NUM_THREADS=1 .venv/bin/python bench/onnx_throughput.py [--samples 32] [--repeats 3]

Prints, for the float and fixed-point ASA artifacts (built as in tests/golden/regenerate.py), the best
wall time of ``cpu.run`` and ``onnx.run`` (step model exported once), the export time and the model size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "golden"))


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    import regenerate

    from snnc.backends import cpu
    from snnc.backends import onnx as onnx_backend
    from snnc.backends.onnx.export import build_step_model
    from snnc.regress.core import load_artifact, make_inputs

    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="snnc-bench-onnx-"))
    print("| graph | cpu simulator | onnx backend | export | ONNX nodes / states | model bytes |")
    print("|---|---|---|---|---|---|")
    for numerics in ("float", "fixed"):
        case = regenerate.Case(f"bench-{numerics}", "demo-asa", numerics, "cpu")
        graph = load_artifact(regenerate.build_artifact(case, work)).graph
        x, _ = make_inputs(graph, args.samples, seed=0)
        t0 = time.perf_counter()
        step = build_step_model(graph)
        export = time.perf_counter() - t0
        t_cpu = best_of(lambda: cpu.run(graph, x), args.repeats)
        t_onnx = best_of(lambda: onnx_backend.run(graph, x, step_model=step), args.repeats)
        print(f"| demo ASA {numerics} ({args.samples} samples, T={x.shape[1]}) | {t_cpu:.3f} s | {t_onnx:.3f} s | "
              f"{export:.3f} s | {len(step.model.graph.node)} / {len(step.states)} | {step.model.ByteSize():,} |")


if __name__ == "__main__":
    main()
