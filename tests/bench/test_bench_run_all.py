"""``bench/run_all.py --only``: the sections run alone replace their namesakes, every other section stays."""

from __future__ import annotations

import importlib.util
from pathlib import Path

RUN_ALL = Path(__file__).resolve().parents[2] / "bench" / "run_all.py"


def _run_all():
    spec = importlib.util.spec_from_file_location("snnc_bench_run_all", RUN_ALL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


DOC = ("# snnc benchmarks\n\nWritten by a full run.\n\n## A\n\nold a, a table:\n\n| x |\n|---|\n| 1 |\n\n"
       "## B\n\nold b\n\n## C\n\nold c\n")


def test_splitting_loses_nothing():
    ra = _run_all()
    head, sections = ra._split(DOC)
    assert head + "".join(sections) == DOC
    assert [s.partition("\n")[0] for s in sections] == ["## A", "## B", "## C"]


def test_a_section_run_alone_replaces_its_namesake_and_keeps_the_others_byte_for_byte():
    ra = _run_all()
    text = ra.splice_sections(DOC, ["## B\n\nnew b\n", "## D\n\nnew d\n"], "Run alone on day 2.")
    head, sections = ra._split(text)
    assert ra.RERUN_NOTE in head and head.startswith("# snnc benchmarks\n\nWritten by a full run.\n")
    old = dict((s.partition("\n")[0], s) for s in ra._split(DOC)[1])
    assert [s.partition("\n")[0] for s in sections] == ["## A", "## B", "## C", "## D"]
    assert sections[0] == old["## A"] and sections[2] == old["## C"]
    assert sections[1] == "## B\n\n*Run alone on day 2.*\n\nnew b\n\n"
    assert "old b" not in text and text.endswith("new d\n")
    # splicing again does not repeat the note
    assert ra.splice_sections(text, ["## B\n\nnewer b\n"], "day 3").count(ra.RERUN_NOTE) == 1
