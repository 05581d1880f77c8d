"""Train → compile → simulate every variant, resumably, and keep one JSON result per variant.

For each variant, in ``OUT/<variant>/``:

1. ``model.pt``: trained with the demo recipe (Adam, MSE on rates; :func:`snnc.train.train_model`),
   reused when a checkpoint with the same config and training settings is already there;
2. two compilations for the CPU reference simulator: **exact** (``--asa-mode exact``: BatchNorm
   folded, pooling fused, the attention computed exactly from the whole window) and **fused** (the
   deployable form: the attention frozen into calibrated per-(t, c) TimeGains, ``fuse_asa_gains``);
3. both run on the held-out split: accuracy, NASFR, per-layer counts and the energy report (the
   analytic Eq. S1–S4 model with Table S1's attention terms, and the measured synaptic operations),
   and the fidelity of fused against exact (prediction and spike agreement); for MA-SNN attention also
   the accuracy with its ReLU dropped (the fused form Lava and fixed point run, ``rectify=False``);
4. ``result.json``, written last and atomically, with the settings key: a variant whose result matches
   the current settings is not recomputed. It holds only what the settings determine (byte-identical
   whichever executor ran it, snnc.executors); how the run went (wall seconds, training seconds,
   whether the checkpoint was reused) goes to ``run.json`` beside it and is merged back when read.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from snnc.errors import SnncError
from snnc.experiment.variants import Variant
from snnc.io import atomic_path

Progress = Callable[[str, str], None]  # (variant, stage)
RESULT_VERSION = 3


@dataclass(frozen=True)
class Settings:
    """Everything a variant's result depends on (its hash is the resume key)."""

    data: str = "synthetic"
    size: str = "demo"  # demo | paper
    T: int = 8
    seed: int = 0
    epochs: int = 6
    batch_size: int = 32
    lr: float = 5e-4
    train_samples: int | None = 800
    test_samples: int | None = 400
    calibrate: int = 64
    granularity: str = "tc"
    weight_grad: str = "exact"  # exact | event (snnc.models.spike_conv); added later, see hashed()
    warmup_steps: int = 0  # linear learning-rate warm-up (snnc.train.warmup_factor); added later, see hashed()

    def hashed(self) -> dict[str, Any]:
        """The settings the key hashes: all of them, except those added later while at the value every result
        before them ran with (``weight_grad`` "exact", ``warmup_steps`` 0), so that those results keep their keys."""
        fields = asdict(self)
        for name, before in (("weight_grad", "exact"), ("warmup_steps", 0)):
            if fields[name] == before:
                del fields[name]
        return fields

    def key(self, config: dict[str, Any]) -> str:
        blob = json.dumps({"settings": self.hashed(), "config": config, "version": RESULT_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def base_config(settings: Settings, classes: int, frame: tuple[int, int]) -> dict[str, Any]:
    """The model config every variant starts from: the demo LIF-SNN-3 or the released size."""
    from snnc.models.registry import demo_config
    from snnc.models.lif_snn3 import DEFAULTS

    if settings.size not in ("demo", "paper"):
        raise SnncError(f"--size: must be 'demo' or 'paper', got {settings.size!r}")
    config = demo_config("asa") if settings.size == "demo" else dict(DEFAULTS)  # released sizes and dropout
    return {**config, "T": settings.T, "num_classes": int(classes), "input_size": list(frame), "in_channels": 2}


class Data:
    """The train/test/calibration frames of a run, loaded once."""

    def __init__(self, settings: Settings) -> None:
        from snnc.data import dataset_classes, dataset_frame_size, load_dataset

        self.classes = dataset_classes(settings.data)
        self.frame = tuple(dataset_frame_size(settings.data))
        self.train = load_dataset(settings.data, "train", settings.train_samples, settings.T, settings.seed)
        self.test = load_dataset(settings.data, "test", settings.test_samples, settings.T, settings.seed)
        self.calibration = self.train[0][:settings.calibrate]


def _train_or_reuse(config: dict[str, Any], settings: Settings, data: Data, ckpt: Path, progress: Progress | None,
                    name: str) -> tuple[Any, dict[str, Any]]:
    from snnc.models.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
    from snnc.models.registry import complete_config
    from snnc.train import train_model

    hparams = {"lr": settings.lr, "epochs": settings.epochs, "batch_size": settings.batch_size,
               "seed": settings.seed, "loss": "mse", "optimizer": "adam"}
    if settings.weight_grad != "exact":
        hparams["weight_grad"] = settings.weight_grad
    if settings.warmup_steps:
        hparams["warmup_steps"] = settings.warmup_steps
    full = complete_config(config)
    if ckpt.is_file():
        try:
            old = read_checkpoint(ckpt)
            if old["config"] == full and old.get("hparams") == hparams and \
                    (old.get("train") or {}).get("dataset") == settings.data:
                model, old = load_checkpoint(ckpt)
                return model, {"test_accuracy": old.get("test_accuracy"), "nasfr": old.get("mean_firing_rate"),
                               "seconds": (old.get("train") or {}).get("seconds"), "reused": True}
        except SnncError:
            pass  # unreadable or different: train again
    if progress:
        progress(name, "train")
    res = train_model(full, data.train, data.test, epochs=settings.epochs, batch_size=settings.batch_size,
                      lr=settings.lr, seed=settings.seed, weight_grad=settings.weight_grad,
                      warmup_steps=settings.warmup_steps)
    meta = {"dataset": settings.data, "samples": int(len(data.train[0])), "test_samples": int(len(data.test[0])),
            "seconds": round(res.seconds, 3), "history": res.history, "silent_outputs": res.silent_outputs}
    save_checkpoint(ckpt, res.model, hparams=hparams, train_meta=meta, test_accuracy=res.test_accuracy,
                    mean_firing_rate=res.mean_firing_rate)
    return res.model.eval(), {"test_accuracy": res.test_accuracy, "nasfr": res.mean_firing_rate,
                              "seconds": round(res.seconds, 3), "reused": False}


def _simulate(graph, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler.analysis.counts import measure
    from snnc.compiler.analysis.energy import energy_report
    from snnc.simulate_session import accuracy

    counter, outputs = measure(graph, x, batch=64, run=cpu_run)
    return {"accuracy": accuracy(graph, outputs, y), "nasfr": counter.nasfr(),
            "lasfr": {n: counter.lasfr(n) for n in counter.layers}, "energy": energy_report(graph, counter)}


def _result_problem(r: Any) -> str | None:
    """The first field of a cached result that the report could not use (None: usable)."""
    def num(v: Any, none_ok: bool = False) -> bool:
        return (v is None and none_ok) or (isinstance(v, (int, float)) and not isinstance(v, bool))

    if not isinstance(r, dict):
        return f"expected an object, found {type(r).__name__}"
    checks = [("variant", isinstance(r.get("variant"), str)), ("label", isinstance(r.get("label"), str)),
              ("config", isinstance(r.get("config"), dict)), ("settings", isinstance(r.get("settings"), dict)),
              ("samples", isinstance(r.get("samples"), int) and r.get("samples") > 0),
              ("train", isinstance(r.get("train"), dict)), ("fidelity", isinstance(r.get("fidelity"), dict)),
              ("attention", isinstance(r.get("attention"), dict)
               and all(num(r["attention"].get(k)) for k in ("params_counted", "params_table_s1", "mac1_table_s1",
                                                             "mac2_table_s1"))),
              ("fused_without_relu", num(r.get("fused_without_relu"), none_ok=True))]
    for mode in ("exact", "fused"):
        m = r.get(mode)
        energy = m.get("energy") if isinstance(m, dict) else None
        totals = energy.get("totals") if isinstance(energy, dict) else None
        checks += [(mode, isinstance(m, dict) and num(m.get("accuracy"), none_ok=True) and num(m.get("nasfr"))),
                   (f"{mode}.energy", isinstance(totals, dict) and isinstance(energy.get("constants"), dict)
                    and all(num(totals.get(k)) for k in ("energy_analytic_pj", "energy_measured_pj", "sop")))]
    bad = [name for name, ok in checks if not ok]
    return f"field {bad[0]} is missing or of the wrong type" if bad else None


def cached_result(path: Path, key: str) -> dict[str, Any] | None:
    """The finished result at ``path`` when it is for ``key`` and complete; a corrupt one is recomputed, with a
    one-line note on stderr."""
    import sys

    if not path.is_file():
        return None
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        problem = f"not readable JSON ({type(e).__name__})"
    else:
        problem = _result_problem(old)
        if problem is None:
            return old if old.get("key") == key else None
    print(f"note: {path}: {problem}; recomputing this variant", file=sys.stderr)
    return None


TRAIN_RUN_FACTS = ("seconds", "reused")  # with the top-level "seconds": the fields that differ from run to run


def _split_run_facts(result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the settings-determined result, the facts of this run: see the module docstring, item 4)."""
    stable = {k: v for k, v in result.items() if k != "seconds"}
    stable["train"] = {k: v for k, v in result["train"].items() if k not in TRAIN_RUN_FACTS}
    facts = {"seconds": result.get("seconds"),
             "train": {k: result["train"].get(k) for k in TRAIN_RUN_FACTS}}
    return stable, facts


def _with_run_facts(result: dict[str, Any], result_path: Path) -> dict[str, Any]:
    """``result`` with the facts of ``run.json`` beside it merged back (unchanged if that is unreadable)."""
    try:
        facts = json.loads((result_path.parent / "run.json").read_text())
        return {**result, "seconds": facts["seconds"], "train": {**result["train"], **facts["train"]}}
    except (OSError, ValueError, KeyError, TypeError):
        return result


def variant_key(variant: Variant, settings: Settings, data: Data) -> str:
    """The resume key of ``variant`` under ``settings`` (what ``result.json`` must carry to be reused)."""
    return settings.key(variant.config(base_config(settings, data.classes, data.frame)))


def finished_result(variant: Variant, settings: Settings, data: Data, out: Path) -> dict[str, Any] | None:
    """The current, complete result of ``variant`` in ``out`` (None: it must be computed)."""
    path = out / variant.name / "result.json"
    old = cached_result(path, variant_key(variant, settings, data))
    return None if old is None else {**_with_run_facts(old, path), "resumed": True}


def run_variant(variant: Variant, settings: Settings, data: Data, out: Path,
                progress: Progress | None = None) -> dict[str, Any]:
    """The result dict of one variant (module docstring); reuses ``OUT/<variant>/result.json`` when current."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler import fidelity
    from snnc.compiler.analysis.attention_cost import cost
    from snnc.compiler.ir.shapes import infer_shapes, shape_of
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
    from snnc.compiler.window_attention import is_attention, rectifies
    from snnc.frontends.torch_model import model_to_graph

    config = variant.config(base_config(settings, data.classes, data.frame))
    key = settings.key(config)
    vdir = out / variant.name
    result_path = vdir / "result.json"
    old = cached_result(result_path, key)
    if old is not None:
        return {**_with_run_facts(old, result_path), "resumed": True}
    vdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model, trained = _train_or_reuse(config, settings, data, vdir / "model.pt", progress, variant.name)
    source = infer_shapes(model_to_graph(model))
    attention = [n for n, node in source.nodes.items() if is_attention(node)]
    counted = int(sum(p.numel() for b in model.blocks if getattr(b, "attn", None) is not None
                      for p in b.attn.parameters()))
    table_s1 = [cost(source.nodes[n], shape_of(source, n, "output")) for n in attention]
    if progress:
        progress(variant.name, "compile")
    exact, _ = run_pipeline(source, select_passes("cpu", asa_mode="exact"))
    names, context = select_passes("cpu"), PipelineContext(calibration=data.calibration, run=cpu_run)
    gains = {"granularity": settings.granularity}
    fused, _ = run_pipeline(source, names, pipeline_options("cpu", names, fuse_asa_gains=gains), context=context)
    x, y = data.test
    if progress:
        progress(variant.name, "simulate")
    result = {
        "key": key, "variant": variant.name, "label": variant.label, "config": config, "settings": settings.hashed(),
        "samples": int(len(x)),
        "train": trained,
        "attention": {"layers": attention, "params_counted": counted,
                      "params_table_s1": int(sum(c["params"] for c in table_s1)),
                      "mac1_table_s1": int(sum(c["mac1"] for c in table_s1)),
                      "mac2_table_s1": int(sum(c["mac2"] for c in table_s1))},
        "exact": _simulate(exact, x, y), "fused": _simulate(fused, x, y),
    }
    if any(rectifies(source.nodes[n]) for n in attention):  # the gains the lava target fuses (no ReLU), run on cpu
        plain, _ = run_pipeline(source, names, pipeline_options("lava", names, fuse_asa_gains=gains), context=context)
        result["fused_without_relu"] = _simulate(plain, x, y)["accuracy"]
    else:
        result["fused_without_relu"] = result["fused"]["accuracy"]
    fid = fidelity.measure(exact, fused, x, y, run=cpu_run)
    result["fidelity"] = {"prediction_agreement": fid.get("prediction_agreement"),
                          "step_agreement": float(np.mean([v["step_agreement"] for v in fid["layers"].values()])),
                          "layers": fid["layers"]}
    result["seconds"] = round(time.perf_counter() - start, 2)
    stable, facts = _split_run_facts(result)
    with atomic_path(vdir / "run.json", "experiment run facts") as tmp:
        tmp.write_text(json.dumps(facts, indent=1, default=float))
    with atomic_path(result_path, "experiment result") as tmp:  # last: the unit is finished
        tmp.write_text(json.dumps(stable, indent=1, default=float))
    return {**result, "resumed": False}

