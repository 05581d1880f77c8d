"""The compile speed-ups change no number: each fast path equals the slow path it replaces.

- quantize probes every population in one run of the whole graph (``probes=``) instead of one sub-graph run
  per probed node: the same graph out, bit for bit (oracle: an interpreter without ``probes``, which makes
  the pass take the per-node sub-graph path);
- the Lava-timing fidelity of a single-depth graph reuses the snnc-timing run: the same record as running the
  pipeline readout for real.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.backends.cpu import run as cpu_run
from snnc.compiler import fidelity
from snnc.compiler.ir.depth import single_depth
from snnc.compiler.passes import PipelineContext
from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes
from snnc.data import load_dataset
from snnc.frontends import model_to_graph
from snnc.models import build_model
from snnc.models.registry import demo_config


def _no_probes(graph, x, **kwargs):
    """The reference interpreter without the ``probes`` keyword (as a third-party interpreter)."""
    if "probes" in kwargs:
        raise TypeError("run() got an unexpected keyword argument 'probes'")
    return cpu_run(graph, x, **kwargs)


def _compile(source, run, calib):
    names = select_passes("lava", asa_mode="fused", fixed_point=True)
    return run_pipeline(source, names, pipeline_options("lava", names), context=PipelineContext(run=run, calibration=calib))


@pytest.fixture(scope="module")
def graphs():
    torch.manual_seed(5)
    model = build_model({**demo_config("asa"), "widths": [3, 4, 4], "fc_hidden": 8, "T": 4}).eval()
    source = model_to_graph(model)
    calib, _ = load_dataset("synthetic", "train", 20, 4, 0)  # 20: probe batches of 16 and 4
    return source, calib


def test_one_run_probing_gives_the_same_compiled_graph(graphs):
    from snnc.compiler.ir.serialize import write_graph

    source, calib = graphs
    fast, rec_fast = _compile(source, cpu_run, calib)
    slow, rec_slow = _compile(source, _no_probes, calib)
    q_fast = next(r for r in rec_fast if r.name == "quantize")
    q_slow = next(r for r in rec_slow if r.name == "quantize")
    assert q_fast.deltas == q_slow.deltas and any("max_abs_wx" in d for d in q_fast.deltas.values())
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        write_graph(Path(d) / "a.nir", fast)
        write_graph(Path(d) / "b.nir", slow)
        assert (Path(d) / "a.nir").read_bytes() == (Path(d) / "b.nir").read_bytes()


def test_reused_run_gives_the_same_lava_timing_fidelity(graphs):
    source, calib = graphs
    compiled, _ = _compile(source, cpu_run, calib)
    assert single_depth(compiled)
    x, y = load_dataset("synthetic", "test", 24, 4, 1)
    slow = fidelity.measure_timings(source, compiled, x, y, ("snnc", "lava"), run=cpu_run, reuse=False)
    fast = fidelity.measure_timings(source, compiled, x, y, ("snnc", "lava"), run=cpu_run)
    assert fast == slow
    assert slow["lava"]["readout"] == "pipeline" and slow["lava"]["layers"]
    unshifted = fidelity.measure_timings(source, compiled, x, y, ("lava",), run=cpu_run, readout="unshifted")
    assert unshifted["lava"]["layers"] != slow["lava"]["layers"]  # the readouts do differ
    assert np.isfinite(slow["snnc"]["accuracy"])
