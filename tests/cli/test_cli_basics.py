"""The CLI shell: help, lazy imports, one-line errors."""

from __future__ import annotations

import subprocess
import sys


def _snnc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snnc.cli", *args], capture_output=True, text=True)


def test_import_snnc_is_light():
    code = "import sys, snnc, snnc.cli, snnc.errors, snnc.io; print(any(m.split('.')[0] in ('torch','lava') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_help_lists_commands_without_lava():
    code = (
        "import sys; from snnc.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit: pass\n"
        "print('LAVA' if any(m.startswith('lava') for m in sys.modules) else 'NOLAVA')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "Usage:" in out and out.strip().endswith("NOLAVA")


def test_unknown_command_is_one_line():
    r = _snnc("frobnicate")
    assert r.returncode != 0
    assert r.stderr.strip().count("\n") == 0 and "frobnicate" in r.stderr
    assert "Traceback" not in r.stderr
