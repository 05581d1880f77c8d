"""Synaptic operations replayed from recorded spikes equal the CPU simulator's own counter (an
independent path: the observer sees the frames inside the simulator), for every backend's spikes."""

from __future__ import annotations

import numpy as np
import pytest
from regenerate import CASES  # tests/golden/regenerate.py

from snnc.backends import cpu
from snnc.compiler.analysis.counts import Counter
from snnc.regress.core import load_artifact, make_inputs, measure
from snnc.regress.synops import synops_per_step

CASE = {c.name: c for c in CASES}


@pytest.mark.parametrize("name, timing", [
    ("demo-asa-float-cpu", "snnc"), ("demo-vanilla-fixed-cpu", "lava"), ("nir-cnn-sinabs-cpu", "snnc"),
])
def test_replayed_synops_equal_cpu_counter(build_case, name, timing):
    graph = load_artifact(build_case(CASE[name])).graph
    x, _ = make_inputs(graph, 3, seed=2, T=6)
    counter = Counter(graph)
    result = cpu.run(graph, x, timing=timing, observer=counter.observe)
    replayed = synops_per_step(graph, x, result)
    assert sorted(replayed) == sorted(counter.synapses)
    for syn, per_t in replayed.items():
        assert per_t.sum() == pytest.approx(counter.synapses[syn].sop, rel=1e-12, abs=0), syn
    assert any(v.sum() > 0 for v in replayed.values())


def test_measure_is_backend_independent(build_case):
    graph = load_artifact(build_case(CASE["demo-asa-fixed-cpu"])).graph
    x, _ = make_inputs(graph, 2, seed=4)
    assert measure(graph, x, "cpu", "lava") == measure(graph, x, "onnx", "lava")
