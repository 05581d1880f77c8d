"""run_pipeline: verify after every pass, failures name the pass and its predecessors; pass lists; declared
options (a misspelt one is an error naming the pass), shared context, timing, the rectify choice."""

from __future__ import annotations

import pytest

from passes_helpers import snapshot, tiny_graph
from snnc.compiler.ir.graph_utils import copy_graph
from snnc.compiler.passes import PASSES, PassError, PassRecord, PipelineContext, pass_options, register_pass
from snnc.compiler.pipeline import (PIPELINES, PipelineError, parse_pass_list, pipeline_options, run_pipeline,
                                    select_passes)
from snnc.errors import SnncError
from snnc.backends.cpu import run as cpu_run


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
    assert {"cpu", "lava", "nir", "onnx", "netx"} <= set(PIPELINES)
    assert "fuse_asa_gains" not in select_passes("lava", asa_mode="exact", fixed_point=True)
    assert select_passes("lava", fixed_point=True)[-1] == "quantize"
    assert "quantize" not in select_passes("onnx") and select_passes("onnx", fixed_point=True)[-1] == "quantize"
    with pytest.raises(SnncError, match="^fixed_point: target 'nir'"):
        select_passes("nir", fixed_point=True)
    with pytest.raises(SnncError, match="^target: unknown target 'x'"):
        select_passes("x")
    with pytest.raises(SnncError, match="^passes: unknown pass 'bogus'"):
        parse_pass_list("fold_batchnorm,bogus")
    # the library names the value; the compile options (what `snnc compile` parses) name the flag
    from snnc.compiler.compile_options import CompileOptions

    with pytest.raises(SnncError, match="^--fixed-point: target 'nir'"):
        CompileOptions(target="nir", fixed_point=True).pass_names()
    with pytest.raises(SnncError, match="^--passes: unknown pass 'bogus'"):
        CompileOptions(target="cpu", passes="fold_batchnorm,bogus").pass_names()
    with pytest.raises(SnncError, match="^--passes: empty pass list"):
        CompileOptions(target="cpu", passes=" , ").pass_names()
    for names in PIPELINES.values():
        assert all(n in PASSES or n == "quantize" for n in names)


def test_misspelt_or_unknown_option_names_the_pass():
    g0 = tiny_graph("none")
    with pytest.raises(PipelineError, match=r"pass 'fuse_asa_gains' has no option 'granularty'; its options: "
                                            r"granularity, rectify, upstream"):
        run_pipeline(g0, select_passes("cpu"), {"fuse_asa_gains": {"granularty": "tc"}})
    with pytest.raises(PipelineError, match=r"pass 'fold_batchnorm' has no option 'calibration'; its options: none "
                                            r"\('calibration' is shared context"):
        run_pipeline(g0, ["fold_batchnorm"], {"fold_batchnorm": {"calibration": None}})
    with pytest.raises(PipelineError, match=r"options for unknown pass 'calibration'"):
        run_pipeline(g0, ["fold_batchnorm"], {"calibration": {}})
    # checked even when the pass is not in this run (select_passes may drop it), before any pass runs
    with pytest.raises(PipelineError, match=r"pass 'quantize' has no option 'clip'"):
        run_pipeline(g0, ["fold_batchnorm"], {"quantize": {"clip": True}})
    g, _ = run_pipeline(g0, ["fold_batchnorm"], {"quantize": {"clip_weights": True}})
    assert g.metadata["snnc"]["passes"] == ["fold_batchnorm"]


def test_declared_options_and_context():
    assert set(pass_options(PASSES["fuse_asa_gains"])) == {"granularity", "upstream", "rectify"}
    assert set(pass_options(PASSES["quantize"])) == {"clip_weights", "weight_scale"}
    assert all(not pass_options(PASSES[n]) for n in ("fold_batchnorm", "fuse_pooling", "fold_static_gains"))
    seen = {}

    def spy(graph, *, calibration: object = None, scale: float = 1.0):
        seen.update(calibration=calibration, scale=scale)
        return copy_graph(graph), PassRecord("spy")

    register_pass(spy)
    try:
        _, records = run_pipeline(tiny_graph("none"), ["spy"], {"spy": {"scale": 2.0}},
                                  context=PipelineContext(run=cpu_run, calibration="frames"))
    finally:
        del PASSES["spy"]
    assert seen == {"calibration": "frames", "scale": 2.0}
    assert records[0].seconds > 0  # timed by the pipeline, not by the pass

    def untyped(graph, *, scale=1.0):
        return graph, PassRecord("untyped")

    with pytest.raises(ValueError, match="option 'scale' needs a type annotation and a default"):
        register_pass(untyped)
    assert "untyped" not in PASSES


def test_rectify_is_chosen_by_the_pipeline_options():
    """Loihi's LIF has no input rectification: lava and fixed-point pipelines fuse attention without its ReLU."""
    def rectify(target, fixed):
        return pipeline_options(target, select_passes(target, fixed_point=fixed))["fuse_asa_gains"]["rectify"]

    assert rectify("cpu", False) and rectify("onnx", False) and rectify("nir", False)
    assert not rectify("lava", False) and not rectify("lava", True)
    assert not rectify("cpu", True) and not rectify("onnx", True)
    opts = pipeline_options("cpu", ["fuse_asa_gains"], fuse_asa_gains={"granularity": "t"},
                            quantize={"clip_weights": True})
    assert opts == {"fuse_asa_gains": {"rectify": True, "granularity": "t"}, "quantize": {"clip_weights": True}}
