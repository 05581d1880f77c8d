"""Outputs never touch inputs (issue 12): the five data-loss cases, ``-o`` replacement rules, and a
hypothesis property over commands whose output path collides with one of their inputs.

Every refused case asserts exit 2, no traceback, at most one output line, every file in the work
directory byte-identical afterwards and nothing new left behind (no temporaries, no lock files).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc_testing import run_cli, tiny_checkpoint, tree_state


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """m.pt (tiny checkpoint) and ART (its cpu artifact), built once per module."""
    from snnc.compile_model import CompileOptions, compile_model

    d = tmp_path_factory.mktemp("dataloss-base")
    tiny_checkpoint(d / "m.pt")
    compile_model(str(d / "m.pt"), str(d / "ART"), CompileOptions(target="cpu", calibrate=2, holdout=0))
    return d


@pytest.fixture
def work(base, tmp_path) -> Path:
    shutil.copy2(base / "m.pt", tmp_path / "m.pt")
    shutil.copytree(base / "ART", tmp_path / "ART")
    (tmp_path / "proj").mkdir()
    shutil.copy2(base / "m.pt", tmp_path / "proj" / "m.pt")
    (tmp_path / "proj" / "notes.txt").write_text("my notes\n")
    return tmp_path


def assert_refused(capsys, root: Path, *args, match: str = "") -> str:
    """Run ``snnc ARGS``; exit 2, one line, no traceback, every file under ``root`` unchanged, nothing new."""
    before = tree_state(root)
    code, out, err = run_cli(capsys, *args)
    lines = (out + err).strip().splitlines()
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err and "internal error" not in err
    assert len(lines) == 1 and lines[0].startswith("snnc: error: "), lines
    assert match in lines[0], lines[0]
    assert tree_state(root) == before
    return lines[0]


# -- the five cases of the issue ---------------------------------------------------------------

def test_compile_into_the_folder_of_its_input_is_refused(capsys, work):
    assert_refused(capsys, work, "compile", work / "proj" / "m.pt", "--target", "cpu", "-o", work / "proj",
                   match="would replace the input MODEL")


def test_export_onto_its_input_is_refused(capsys, work):
    assert_refused(capsys, work, "export", work / "m.pt", "-o", work / "m.pt", match="is the input MODEL")


def test_simulate_json_onto_its_input_is_refused(capsys, work):
    assert_refused(capsys, work, "simulate", work / "m.pt", "--json", work / "m.pt", match="is the input")


def test_simulate_plot_into_the_artifact_is_refused(capsys, work):
    assert_refused(capsys, work, "simulate", work / "ART", "--plot", work / "ART" / "graph.nir",
                   match="lies inside the input ARTIFACT_OR_MODEL")


def test_regress_update_into_the_artifact_is_refused(capsys, work):
    assert_refused(capsys, work, "regress", work / "ART", "--golden", work / "ART" / "graph.nir", "--update",
                   match="lies inside the input ARTIFACT")


# -- -o DIR replacement ----------------------------------------------------------------------------

def test_existing_folder_that_is_not_an_artifact_is_never_emptied(capsys, work):
    (work / "other").mkdir()
    (work / "other" / "keep.txt").write_text("mine\n")
    assert_refused(capsys, work, "compile", work / "m.pt", "--target", "cpu", "-o", work / "other",
                   match="is not an snnc artifact")


def test_artifact_with_a_file_the_user_added_is_not_replaced(capsys, work):
    (work / "ART" / "notes.txt").write_text("mine\n")
    assert_refused(capsys, work, "compile", work / "m.pt", "--target", "cpu", "-o", work / "ART",
                   match="ART/notes.txt is not part of the artifact")


def test_output_reached_through_a_symlink_or_hard_link_is_the_input(capsys, work):
    (work / "alias").symlink_to(work, target_is_directory=True)
    os.link(work / "m.pt", work / "hard.pt")
    assert_refused(capsys, work, "simulate", work / "m.pt", "--json", work / "alias" / "m.pt", match="is the input")
    assert_refused(capsys, work, "export", work / "m.pt", "-o", work / "hard.pt", match="is the input")


def test_json_and_plot_on_the_same_path_are_refused(capsys, work):
    assert_refused(capsys, work, "simulate", work / "m.pt", "--json", work / "r.out", "--plot", work / "r.out",
                   match="collides with --json")


def test_an_artifact_is_replaced_whole_and_verifiably(capsys, work):
    from snnc.artifact_manifest import verify_artifact

    old = json.loads((work / "ART" / "manifest.json").read_text())
    code, out, err = run_cli(capsys, "compile", work / "m.pt", "--target", "cpu", "--calibrate", "2", "--holdout",
                             "0", "--seed", "3", "-o", work / "ART")
    assert code == 0, err
    new = verify_artifact(work / "ART", allow_extra=False)
    assert new["options"]["seed"] == 3 and old["options"]["seed"] == 0
    assert sorted(p.name for p in work.iterdir()) == ["ART", "m.pt", "proj"]  # no temporary, no lock left


# -- property: for random commands whose output collides with an input, no input byte changes -------

PROPERTY_BASE: dict[str, Path] = {}


def _commands(root: Path) -> list[tuple[tuple[str, ...], str, list[str]]]:
    """(argv with {OUT} placeholder, kind of output, the command's input paths) over the tiny files."""
    m, art, g = str(root / "m.pt"), str(root / "ART"), str(root / "ART" / "graph.nir")
    return [
        (("export", m, "-o", "{OUT}"), "file", [m]),
        (("export", g, "-o", "{OUT}"), "file", [g]),
        (("simulate", m, "--samples", "1", "--json", "{OUT}"), "file", [m]),
        (("simulate", art, "--samples", "1", "--json", "{OUT}"), "file", [art]),
        (("simulate", g, "--samples", "1", "--plot", "{OUT}"), "file", [g]),
        (("simulate", art, "--samples", "1", "--baseline", m, "--json", "{OUT}"), "file", [art, m]),
        (("regress", art, "--samples", "1", "--golden", "{OUT}", "--update"), "file", [art]),
        (("compile", m, "--target", "cpu", "--calibrate", "2", "--holdout", "0", "-o", "{OUT}"), "dir", [m]),
        (("compile", g, "--target", "nir", "--calibrate", "2", "--holdout", "0", "-o", "{OUT}"), "dir", [g]),
    ]


def _collisions(inp: str, root: Path) -> list[str]:
    """Output paths that collide with input ``inp``: itself, inside it / its artifact, a parent of it."""
    p = Path(inp)
    art = p if p.is_dir() else (p.parent if (p.parent / "manifest.json").exists() else None)
    out = [inp, str(p.parent)]
    if art is not None:
        out += [str(art / "graph.nir"), str(art / "manifest.json"), str(art / "new.json"), str(art)]
    return out


def _spell(path: str, how: str, root: Path) -> str:
    """The same path written another way: relative, with ./ and x/.. segments, through a symlink."""
    rel = os.path.relpath(path, root)
    if how == "relative":
        return rel
    if how == "dots":
        return os.path.join(".", "ART", "..", rel)
    if how == "symlink":
        return str(root / "alias" / rel)
    return path


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_colliding_outputs_never_change_an_input(capsys, base, tmp_path_factory, data):
    if "root" not in PROPERTY_BASE:
        root = tmp_path_factory.mktemp("collide")
        shutil.copy2(base / "m.pt", root / "m.pt")
        shutil.copytree(base / "ART", root / "ART")
        (root / "alias").symlink_to(root, target_is_directory=True)
        PROPERTY_BASE["root"] = root
    root = PROPERTY_BASE["root"]
    argv, _, inputs = data.draw(st.sampled_from(_commands(root)), label="command")
    inp = data.draw(st.sampled_from(inputs), label="input")
    out = data.draw(st.sampled_from(_collisions(inp, root)), label="output")
    out = _spell(out, data.draw(st.sampled_from(["absolute", "relative", "dots", "symlink"]), label="spelling"),
                 root)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert_refused(capsys, root, *[out if a == "{OUT}" else a for a in argv])
    finally:
        os.chdir(cwd)
