"""Artifacts verify themselves (issue 12): a file changed after compile, a missing listed file, a
missing, corrupt or unknown-version manifest and a mistyped option are refused by ``snnc simulate``
and ``snnc regress`` on the cpu and onnx backends, in one line naming the file, before anything runs.
(The lava backend's cases: tests/backends/lava/test_lava_tampered.py.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from snnc_testing import run_cli, tiny_checkpoint, tree_state

CHANGED = "sha256 differs from the manifest: the artifact was changed after compile"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """A tiny checkpoint compiled once for the cpu and the onnx target."""
    from snnc.compile_model import CompileOptions, compile_model

    d = tmp_path_factory.mktemp("tampered-base")
    tiny_checkpoint(d / "m.pt")
    arts = {"m.pt": d / "m.pt"}
    for target in ("cpu", "onnx"):
        compile_model(str(d / "m.pt"), str(d / target), CompileOptions(target=target, calibrate=2, holdout=0))
        arts[target] = d / target
    return arts


def flip_byte(path: Path, where: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    path.write_bytes(bytes(data))


def refused(capsys, root: Path, *args) -> str:
    """exit 2, one line, no traceback, nothing under ``root`` changed or added; returns the line."""
    before = tree_state(root)
    code, out, err = run_cli(capsys, *args)
    lines = (out + err).strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err and "internal error" not in err, (code, out, err)
    assert tree_state(root) == before
    return lines[0]


def both_commands_refuse(capsys, tmp_path: Path, art: Path, backend: str, match: str) -> None:
    line = refused(capsys, tmp_path, "simulate", art, "--backend", backend, "--samples", "1")
    assert match in line, line
    line = refused(capsys, tmp_path, "regress", art, "--backend", backend, "--samples", "1", "--golden",
                   tmp_path / "golden.json", "--update")
    assert match in line, line


@pytest.fixture
def copy(built, tmp_path):
    def make(target: str) -> Path:
        return Path(shutil.copytree(built[target], tmp_path / "art"))

    return make


def test_untouched_artifacts_run(capsys, copy, tmp_path):
    """The control: the same commands on an unmodified copy succeed (so the refusals below are caused
    by the change alone)."""
    for backend in ("cpu", "onnx"):
        art = copy(backend)
        code, out, err = run_cli(capsys, "simulate", art, "--backend", backend, "--samples", "1")
        assert code == 0, err
        code, out, err = run_cli(capsys, "regress", art, "--backend", backend, "--samples", "1", "--golden",
                                 tmp_path / "g.json", "--update")
        assert code == 0, err
        shutil.rmtree(art)


@pytest.mark.parametrize("backend", ["cpu", "onnx"])
def test_changed_graph_is_refused(capsys, copy, tmp_path, backend):
    art = copy(backend)
    flip_byte(art / "graph.nir", 0.9)
    both_commands_refuse(capsys, tmp_path, art, backend, f"{art / 'graph.nir'}: {CHANGED}")


def test_changed_onnx_model_is_refused(capsys, copy, tmp_path):
    art = copy("onnx")
    flip_byte(art / "model.onnx")
    both_commands_refuse(capsys, tmp_path, art, "onnx", f"{art / 'model.onnx'}: {CHANGED}")


def test_changed_report_and_missing_file_are_refused(capsys, copy, tmp_path):
    art = copy("cpu")
    (art / "report.md").write_text((art / "report.md").read_text().replace("fold", "f0ld", 1))
    both_commands_refuse(capsys, tmp_path, art, "cpu", f"{art / 'report.md'}: {CHANGED}")
    (art / "report.md").unlink()
    both_commands_refuse(capsys, tmp_path, art, "cpu", f"{art / 'report.md'}: listed in")


@pytest.mark.parametrize("damage, match", [
    ("missing", "manifest.json: missing"),
    ("corrupt", "manifest.json: not valid JSON"),
    ("version99", "manifest.json: format_version 99 is not supported"),
    ("version1", "format_version 1 is not supported (written by an older snnc"),
    ("calibrate-lots", "manifest.json: options.calibrate: expected int, got \"lots\""),
    ("files-list", "manifest.json: files: expected an object"),
    ("escape", "is not a path inside the artifact"),
])
def test_bad_manifest_is_refused(capsys, copy, tmp_path, damage, match):
    art = copy("cpu")
    path = art / "manifest.json"
    doc = json.loads(path.read_text())
    if damage == "missing":
        path.unlink()
    elif damage == "corrupt":
        path.write_text("{not json")
    elif damage.startswith("version"):
        path.write_text(json.dumps({**doc, "format_version": int(damage[7:])}))
    elif damage == "calibrate-lots":
        path.write_text(json.dumps({**doc, "options": {**doc["options"], "calibrate": "lots"}}))
    elif damage == "files-list":
        path.write_text(json.dumps({**doc, "files": sorted(doc["files"])}))
    else:
        path.write_text(json.dumps({**doc, "files": {**doc["files"], "../m.pt": doc["files"]["graph.nir"]}}))
    both_commands_refuse(capsys, tmp_path, art, "cpu", match)


def test_mistyped_option_with_baseline_is_refused(capsys, copy, built, tmp_path):
    """The issue's case: ``"calibrate": "lots"`` used by ``--baseline`` (options_from_manifest)."""
    art = copy("cpu")
    doc = json.loads((art / "manifest.json").read_text())
    (art / "manifest.json").write_text(json.dumps({**doc, "options": {**doc["options"], "calibrate": "lots"}}))
    line = refused(capsys, tmp_path, "simulate", art, "--baseline", built["m.pt"], "--samples", "1")
    assert "options.calibrate" in line


def test_a_file_inside_an_artifact_is_verified_too(capsys, copy, tmp_path):
    art = copy("cpu")
    flip_byte(art / "graph.nir", 0.9)
    line = refused(capsys, tmp_path, "simulate", art / "graph.nir", "--samples", "1")
    assert CHANGED in line
