"""A Lava artifact changed after compile is refused before Lava runs (issue 12): ``lava/spec.json`` or a
``lava/*.npy`` with one byte flipped, through ``snnc simulate --backend lava``, ``snnc regress --backend
lava`` and the library's ``run_artifact``. The refusal comes from the manifest check, so Lava itself
is never imported (checked in a fresh interpreter) and these tests take seconds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.errors import SnncError
from snnc_testing import run_cli, tiny_checkpoint, tree_state

pytestmark = pytest.mark.lava
CHANGED = "sha256 differs from the manifest: the artifact was changed after compile"


@pytest.fixture(scope="module")
def lava_artifact(tmp_path_factory) -> Path:
    from snnc.compile_model import CompileOptions, compile_model

    d = tmp_path_factory.mktemp("lava-tampered")
    tiny_checkpoint(d / "m.pt")
    compile_model(str(d / "m.pt"), str(d / "art"), CompileOptions(target="lava", calibrate=2, holdout=0))
    return d / "art"


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # the last bytes: array data of an .npy, the closing of spec.json
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ["spec.json", "npy"])
def test_changed_lava_file_is_refused(capsys, lava_artifact, tmp_path, which):
    art = Path(shutil.copytree(lava_artifact, tmp_path / "art"))
    target = art / "lava" / "spec.json" if which == "spec.json" else sorted((art / "lava").glob("*.npy"))[0]
    _flip(target)
    before = tree_state(tmp_path)
    for args in (("simulate", art, "--backend", "lava", "--samples", "1"),
                 ("regress", art, "--backend", "lava", "--samples", "1", "--golden", tmp_path / "g.json", "--update")):
        code, out, err = run_cli(capsys, *args)
        lines = (out + err).strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, out, err)
        assert f"{target}: {CHANGED}" in lines[0]
        assert tree_state(tmp_path) == before
    from snnc.backends.lava import run_artifact

    with pytest.raises(SnncError, match=CHANGED):
        run_artifact(art, np.zeros((1, 2, 2, 32, 32), np.float32))


def test_refusal_happens_before_lava_is_imported(lava_artifact, tmp_path):
    art = Path(shutil.copytree(lava_artifact, tmp_path / "art"))
    _flip(art / "lava" / "spec.json")
    code = ("import sys\nfrom snnc.cli import main\n"
            "try:\n    main(['simulate', sys.argv[1], '--backend', 'lava', '--samples', '1'])\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "assert rc == 2, rc\nassert not any(m == 'lava' or m.startswith('lava.') for m in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code, str(art)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert CHANGED in r.stderr and len(r.stderr.strip().splitlines()) == 1
