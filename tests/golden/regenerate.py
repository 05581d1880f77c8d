"""Rebuild snnc's own golden files deterministically: ``python tests/golden/regenerate.py [--only NAME ...]``.

Cases (``CASES``): the demo LIF-SNN-3 (``snnc.models.registry.demo_config``), vanilla and ASA, as
seeded *untrained but firing* models (``torch.manual_seed(SEED)``, then
``snnc.models.activity.scale_to_rate`` on seeded synthetic frames: every layer fires at about
10 %), saved as checkpoints and compiled through the real pipeline
(``snnc.compile_model.compile_model``: float for the cpu/onnx backends, fixed point for cpu and
lava); and the third-party NIR reference graphs (lif_norse, cnn_sinabs, braille) read directly (a copy with
``metadata["snnc"]["dt"]`` set to the dt the exporter used, where the file's own default would be wrong).
Training the demo models would take minutes; the pipeline, not the accuracy, is under test.

Each golden file is written by ``snnc.regress.regress(..., update=True)`` (atomic), so the test
``tests/regress/test_regress_golden.py`` re-creates the same artifacts and must match exactly.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
REPO = GOLDEN_DIR.parents[1]
NIR_REFERENCE = REPO.parent / "shared" / "nir-reference"
SEED = 0
CALIBRATE = 16
SAMPLES = 4


@dataclass(frozen=True)
class Case:
    """A golden case: which artifact, which backend and timing."""

    name: str
    source: str  # "demo-none", "demo-asa" or a path relative to NIR_REFERENCE
    compile: str | None  # "float", "fixed" (cpu target), "lava" (lava target) or None (graph file as is)
    backend: str
    slow: bool = False
    dt: float | None = None  # NIR reference graphs: the dt they were exported for (written into the copy)
    T: int | None = None  # and the window length to run them for
    timing: str | None = None  # None: the backend's default (lava for lava, else snnc)

    @property
    def golden(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.json"


CASES: tuple[Case, ...] = (
    Case("demo-vanilla-float-cpu", "demo-none", "float", "cpu"),
    Case("demo-asa-float-cpu", "demo-asa", "float", "cpu"),
    Case("demo-vanilla-float-onnx", "demo-none", "float", "onnx"),
    Case("demo-asa-float-onnx", "demo-asa", "float", "onnx"),
    Case("demo-vanilla-fixed-cpu", "demo-none", "fixed", "cpu"),
    Case("demo-asa-fixed-cpu", "demo-asa", "fixed", "cpu"),
    # the lava-target artifact (pooling lowered, fixed point) under lava timing, without Lava itself
    Case("demo-asa-lavatarget-cpu", "demo-asa", "lava", "cpu", timing="lava"),
    Case("demo-asa-lavatarget-onnx", "demo-asa", "lava", "onnx", timing="lava"),
    Case("demo-vanilla-fixed-lava", "demo-none", "lava", "lava", slow=True),
    Case("demo-asa-fixed-lava", "demo-asa", "lava", "lava", slow=True),
    Case("nir-lif-norse-cpu", "01_lif/lif_norse.nir", None, "cpu", dt=1e-4, T=200),
    Case("nir-cnn-sinabs-cpu", "02_cnn/cnn_sinabs.nir", None, "cpu"),
    # snnTorch's exporter hard-codes dt = 1e-4 (alpha_r = 0.55 -> dt/tau_syn = 0.45)
    Case("nir-braille-cpu", "03_rnn/braille_noDelay_bias_zero.nir", None, "cpu", dt=1e-4),
)


def demo_checkpoint(attention: str, path: Path) -> Path:
    """The seeded, rate-scaled demo model of ``attention`` ("none" or "asa") saved at ``path``."""
    import torch

    from snnc.models.activity import scale_to_rate
    from snnc.data import load_dataset
    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    config = demo_config(attention)
    torch.manual_seed(SEED)
    model = build_model(config).eval()
    x, _ = load_dataset("synthetic", "train", 16, config["T"], SEED)
    scale_to_rate(model, torch.as_tensor(x), target=0.1)
    return save_checkpoint(path, model, hparams={"seed": SEED, "note": "untrained, rate-scaled"},
                           train_meta={"dataset": "synthetic", "samples": 0})


def build_artifact(case: Case, workdir: Path) -> Path:
    """The artifact (directory or graph file) of ``case``, built under ``workdir`` (cached there)."""
    if case.compile is None:
        if case.dt is None:
            return NIR_REFERENCE / case.source
        out = workdir / f"{Path(case.source).stem}-dt{case.dt:g}{f'-T{case.T}' if case.T else ''}.nir"
        if not out.exists():
            from snnc.compiler.ir import write_graph
            from snnc.frontends import load_graph

            g = load_graph(NIR_REFERENCE / case.source)
            extra = {"dt": case.dt, **({"T": case.T} if case.T else {})}
            g.metadata = {**(g.metadata or {}), "snnc": {**((g.metadata or {}).get("snnc") or {}), **extra}}
            write_graph(out, g)
        return out
    from snnc.compile_model import CompileOptions, compile_model

    attention = case.source.split("-", 1)[1]
    ckpt = workdir / f"{case.source}.pt"
    if not ckpt.exists():
        demo_checkpoint(attention, ckpt)
    out = workdir / f"{case.source}-{case.compile}"
    if not out.exists():
        from snnc.compiler.pipeline import PIPELINES

        # "lava": the lava target's pass list, compiled as a cpu artifact (the same graph.nir, without the
        # Lava-specific extra files, so that building it does not depend on Lava)
        passes = ",".join(PIPELINES["lava"]) if case.compile == "lava" else None
        opts = CompileOptions(target="cpu", passes=passes, calibrate=CALIBRATE, holdout=0,
                              fixed_point=case.compile != "float", seed=SEED)
        compile_model(str(ckpt), str(out), opts)
    return out


def regenerate(names: list[str] | None = None, workdir: Path | None = None) -> list[str]:
    """Rewrite the golden files of ``names`` (all by default); returns the messages."""
    import importlib.util
    import tempfile

    from snnc.regress import regress

    work = Path(workdir or tempfile.mkdtemp(prefix="snnc-golden-"))
    work.mkdir(parents=True, exist_ok=True)
    msgs = []
    for case in CASES:
        if names and case.name not in names:
            continue
        if case.backend == "lava" and importlib.util.find_spec("snnc.backends.lava") is None:
            msgs.append(f"{case.name}: skipped (snnc.backends.lava is not installed)")
            continue
        artifact = build_artifact(case, work)
        out = regress(artifact, case.golden, backend=case.backend, timing=case.timing, update=True, samples=SAMPLES,
                      seed=SEED)
        msgs.append(f"{case.name}: {out.notes[0]}")
    return msgs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="case names (default: all)")
    ap.add_argument("--workdir", help="keep the built artifacts here")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for m in regenerate(args.only, Path(args.workdir) if args.workdir else None):
        print(m)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
