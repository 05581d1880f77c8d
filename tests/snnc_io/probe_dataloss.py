"""Probe for docs/results.md (issue 12, "outputs never touch inputs" and "artifacts verify themselves").

Run: ``OMP_NUM_THREADS=1 .venv/bin/python tests/snnc_io/probe_dataloss.py [--no-lava]`` (about a minute).

Exhaustive, not sampled: every (command, input, colliding output, spelling) of tests/cli/test_cli_dataloss.py;
for the cpu, onnx and lava targets, one byte flipped in every file of a tiny artifact (each through
``snnc simulate --backend T`` and ``snnc regress --backend T --update``) and six damaged manifests;
``-o`` onto a folder that is not an artifact and onto an artifact holding a user's file; a live writer's lock.
Each run counts as a clean refusal when it exits 2 with one line and no traceback; "inputs damaged" counts
runs after which any file present before differs or is gone, "temporaries left" runs that left a new path.
Prints a Markdown table.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "cli")]

from snnc_testing import tiny_checkpoint, tree_state  # noqa: E402
from test_cli_dataloss import _collisions, _commands, _spell  # noqa: E402

from snnc.cli import main  # noqa: E402

ROWS: dict[str, dict[str, int]] = {}


def run(category: str, root: Path, argv: list) -> None:
    before = tree_state(root)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    after = tree_state(root)
    text = out.getvalue() + err.getvalue()
    row = ROWS.setdefault(category, dict.fromkeys(("tried", "clean", "traceback", "wrong_exit", "damaged", "left"), 0))
    row["tried"] += 1
    row["clean"] += code == 2 and len(text.strip().splitlines()) == 1 and "Traceback" not in text
    row["traceback"] += "Traceback" in text or "internal error" in text
    row["wrong_exit"] += code != 2
    row["damaged"] += any(after.get(k, "gone") != v for k, v in before.items())
    row["left"] += any(k not in before for k in after)
    if code != 2:
        print(f"not refused ({code}): snnc {' '.join(map(str, argv))}\n{text}", file=sys.stderr)


def collisions(work: Path, base: Path) -> None:
    root = work / "collide"
    root.mkdir()
    shutil.copy2(base / "m.pt", root / "m.pt")
    shutil.copytree(base / "cpu", root / "ART")
    (root / "alias").symlink_to(root, target_is_directory=True)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for argv, _, inputs in _commands(root):
            for inp in inputs:
                for out in _collisions(inp, root):
                    for how in ("absolute", "relative", "dots", "symlink"):
                        run("output collides with an input", root,
                            [_spell(out, how, root) if a == "{OUT}" else a for a in argv])
    finally:
        os.chdir(cwd)


def _damage_manifest(path: Path, how: str) -> None:
    doc = json.loads(path.read_text())
    if how == "missing":
        path.unlink()
    elif how == "corrupt":
        path.write_text("{not json")
    elif how in ("v99", "v1"):
        path.write_text(json.dumps({**doc, "format_version": int(how[1:])}))
    elif how == "lots":
        path.write_text(json.dumps({**doc, "options": {**doc["options"], "calibrate": "lots"}}))
    else:
        path.write_text(json.dumps({**doc, "files": sorted(doc["files"])}))


def tampered(work: Path, base: Path, targets: list[str]) -> None:
    for target in targets:
        files = sorted(json.loads((base / target / "manifest.json").read_text())["files"])
        damages = [("flip", f) for f in files] + [("manifest", h) for h in ("missing", "corrupt", "v99", "v1",
                                                                             "lots", "list")]
        for kind, what in damages:
            root = work / f"t-{target}"
            art = Path(shutil.copytree(base / target, root / "art"))
            if kind == "flip":
                data = bytearray((art / what).read_bytes())
                data[len(data) // 2] ^= 0x01
                (art / what).write_bytes(bytes(data))
            else:
                _damage_manifest(art / "manifest.json", what)
            for argv in (["simulate", art, "--backend", target if target != "nir" else "cpu", "--samples", "1"],
                         ["regress", art, "--backend", target, "--samples", "1", "--golden", root / "g.json",
                          "--update"]):
                run(f"artifact changed after compile ({target})", root, argv)
            shutil.rmtree(root)


def replacing(work: Path, base: Path) -> None:
    root = work / "replace"
    root.mkdir()
    shutil.copy2(base / "m.pt", root / "m.pt")
    (root / "folder").mkdir()
    (root / "folder" / "keep.txt").write_text("mine")
    shutil.copytree(base / "cpu", root / "ART")
    (root / "ART" / "notes.txt").write_text("mine")
    for out in ("folder", "ART"):
        run("-o onto a non-artifact / an artifact with user files", root,
            ["compile", root / "m.pt", "--target", "cpu", "-o", root / out])
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        (root / ".m.nir.lock").write_text(f"{sleeper.pid}\n")
        run("second writer while the first runs (lock)", root, ["export", root / "m.pt", "-o", root / "m.nir"])
    finally:
        sleeper.kill()
        sleeper.wait()


def main_probe() -> None:
    from snnc.compile_model import CompileOptions, compile_model

    targets = ["cpu", "onnx"] + ([] if "--no-lava" in sys.argv else ["lava"])
    with tempfile.TemporaryDirectory(prefix="snnc-probe-") as tmp:
        work = Path(tmp)
        base = work / "base"
        base.mkdir()
        tiny_checkpoint(base / "m.pt")
        for t in targets:
            compile_model(str(base / "m.pt"), str(base / t), CompileOptions(target=t, calibrate=2, holdout=0))
        collisions(work, base)
        tampered(work, base, targets)
        replacing(work, base)
    print("| category | inputs tried | clean refusals | tracebacks | wrong exit codes | inputs damaged | "
          "temporaries left |\n|---|---|---|---|---|---|---|")
    for name, r in ROWS.items():
        print(f"| {name} | {r['tried']} | {r['clean']} | {r['traceback']} | {r['wrong_exit']} | {r['damaged']} | "
              f"{r['left']} |")


if __name__ == "__main__":
    main_probe()
