"""Every variant of ``snnc experiment`` round-trips: train → compile (exact and fused) → CPU simulation.

The oracle of the exact mode is the trained PyTorch model itself: the simulator's spikes must equal
``model.forward_record`` in every layer, and its accuracy the model's. The fused mode must hold no
attention node any more (only calibrated TimeGains). A second run must resume without retraining.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from snnc.experiment.runner import Data, Settings, run_variant
from snnc.experiment.variants import VARIANTS
from snnc.backends.cpu import run as cpu_run

TINY = Settings(epochs=1, train_samples=24, test_samples=12, calibrate=4, batch_size=8)


@pytest.fixture(scope="module")
def data():
    return Data(TINY)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_variant_round_trips(variant, data, tmp_path):
    from snnc.backends.cpu import run
    from snnc.compiler.ir.graph_utils import node_kind
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import run_pipeline, select_passes
    from snnc.compiler.window_attention import is_attention
    from snnc.frontends import load_graph
    from snnc.models.checkpoint import load_checkpoint
    from snnc.train import evaluate

    result = run_variant(variant, TINY, data, tmp_path)
    ckpt = tmp_path / variant.name / "model.pt"
    model, _ = load_checkpoint(ckpt)
    x, y = data.test
    source = load_graph(ckpt)
    n_attention = sum(is_attention(n) for n in source.nodes.values())
    assert n_attention == (0 if variant.name == "vanilla" else 3)

    exact, _ = run_pipeline(source, select_passes("cpu", asa_mode="exact"))
    with torch.no_grad():
        rec = model.forward_record(torch.from_numpy(x))
    res = run(exact, x)
    for name, spikes in res.spikes.items():
        assert np.array_equal(spikes, rec[name.removesuffix("_lif")].numpy()), name
    assert result["exact"]["accuracy"] == evaluate(model, x, y)[0]

    fused, _ = run_pipeline(source, select_passes("cpu"), context=PipelineContext(run=cpu_run, calibration=data.calibration))
    kinds = [node_kind(n) for n in fused.nodes.values()]
    assert not any(is_attention(n) for n in fused.nodes.values())
    assert kinds.count("TimeGain") == n_attention
    assert result["fused"]["accuracy"] is not None and 0 <= result["fidelity"]["prediction_agreement"] <= 1

    stamp = ckpt.stat().st_mtime_ns
    again = run_variant(variant, TINY, data, tmp_path)
    assert again["resumed"] and ckpt.stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / variant.name / "result.json").read_text())["key"] == result["key"]


def test_changed_settings_recompute_but_reuse_nothing_stale(data, tmp_path):
    v = VARIANTS[5]  # asa
    first = run_variant(v, TINY, data, tmp_path)
    other = Settings(**{**TINY.__dict__, "calibrate": 3})
    second = run_variant(v, other, data, tmp_path)
    assert not second["resumed"] and second["key"] != first["key"]
    # the checkpoint did not depend on the calibration count, so it was reused, not retrained
    assert second["train"]["reused"]
