"""run_pipeline: verify after every pass, failures name the pass and its predecessors; pass lists."""

from __future__ import annotations

import pytest

from passes_helpers import snapshot, tiny_graph
from snnc.compiler.ir.graph_utils import copy_graph
from snnc.compiler.passes import PASSES, PassError, PassRecord
from snnc.compiler.pipeline import PIPELINES, PipelineError, parse_pass_list, run_pipeline, select_passes
from snnc.errors import SnncError


def _break_edges(graph):
    g = copy_graph(graph)
    g.edges = [e for e in g.edges if e != ("b1_lif", "b2_conv")]
    return g, PassRecord("break_edges")


def _refuse(graph):
    raise PassError("nope: node 'b0_conv' is odd")


def test_verify_after_each_pass_names_failing_pass(monkeypatch):
    monkeypatch.setitem(PASSES, "break_edges", _break_edges)
    g0 = tiny_graph("none")
    before = snapshot(g0)
    with pytest.raises(PipelineError) as err:
        run_pipeline(g0, ["fold_batchnorm", "fuse_pooling", "break_edges", "fold_batchnorm"])
    msg = str(err.value)
    assert "pass 'break_edges' (after: fold_batchnorm, fuse_pooling) produced an invalid graph" in msg
    assert "b2_conv" in msg
    assert snapshot(g0) == before


def test_refusing_pass_is_named(monkeypatch):
    monkeypatch.setitem(PASSES, "refuse", _refuse)
    with pytest.raises(PipelineError, match=r"pass 'refuse' \(after: fold_batchnorm\) failed: nope"):
        run_pipeline(tiny_graph("none"), ["fold_batchnorm", "refuse"])


def test_pipeline_records_and_metadata():
    g0 = tiny_graph("none")
    before = snapshot(g0)
    g, records = run_pipeline(g0, ["fold_batchnorm", "fuse_pooling"])
    assert [r.name for r in records] == ["fold_batchnorm", "fuse_pooling"]
    assert g.metadata["snnc"]["passes"] == ["fold_batchnorm", "fuse_pooling"]
    assert snapshot(g0) == before
    g_empty, recs = run_pipeline(g0, [])
    assert recs == [] and snapshot(g0) == before and g_empty is not g0


def test_pass_lists():
    assert set(PIPELINES) == {"cpu", "lava", "nir", "onnx"}
    assert "fuse_asa_gains" not in select_passes("lava", asa_mode="exact", fixed_point=True)
    assert select_passes("lava", fixed_point=True)[-1] == "quantize"
    assert "quantize" not in select_passes("onnx") and select_passes("onnx", fixed_point=True)[-1] == "quantize"
    with pytest.raises(SnncError, match="--fixed-point: target 'nir'"):
        select_passes("nir", fixed_point=True)
    with pytest.raises(SnncError, match="--target: unknown target 'x'"):
        select_passes("x")
    with pytest.raises(SnncError, match="--passes: unknown pass 'bogus'"):
        parse_pass_list("fold_batchnorm,bogus")
    for names in PIPELINES.values():
        assert all(n in PASSES or n == "quantize" for n in names)
