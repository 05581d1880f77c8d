"""The streamed fidelity measurement equals the one computed from whole arrays of spikes (the path kept for
callers that pass ``reference_run``), for both timings and with and without labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.compiler import fidelity
from snnc.compiler.passes import PipelineContext
from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
from snnc.data import load_dataset
from snnc.frontends import model_to_graph
from snnc.models import build_model
from snnc.models.registry import demo_config
from snnc.backends.cpu import run as cpu_run


@pytest.fixture(scope="module")
def graphs():
    torch.manual_seed(3)
    model = build_model({**demo_config("asa"), "widths": [2, 3, 3], "fc_hidden": 6, "T": 3}).eval()
    source = model_to_graph(model)
    calib, _ = load_dataset("synthetic", "train", 4, 3, 0)
    names = select_passes("lava", asa_mode="fused", fixed_point=True)
    compiled, _ = run_pipeline(source, names, pipeline_options("lava", names),
                               context=PipelineContext(run=cpu_run, calibration=calib))
    return source, compiled


@pytest.mark.parametrize("labels", [True, False])
def test_streamed_equals_whole_arrays(graphs, labels):
    source, compiled = graphs
    x, y = load_dataset("synthetic", "test", 37, 3, 1)  # 37: batches of 32 and 5
    y = y if labels else None
    streamed = fidelity.measure_timings(source, compiled, x, y, ("snnc", "lava"), run=cpu_run)
    ref_run = fidelity.run_batched(source, x, run=cpu_run)
    for timing in ("snnc", "lava"):
        whole = fidelity.measure(source, compiled, x, y, reference_run=ref_run, timing=timing, run=cpu_run)
        assert streamed[timing] == whole
