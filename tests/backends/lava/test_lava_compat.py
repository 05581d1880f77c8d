"""The Python 3.11 import hook for lava-nc 0.10.0 (snnc.backends.lava.compat)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

from snnc.backends.lava import compat


def _var_model_source() -> str:
    spec = importlib.util.find_spec("lava")
    if spec is None:
        pytest.skip("lava-nc not installed")
    from pathlib import Path

    return (Path(spec.submodule_search_locations[0]) / "magma" / "compiler" / "var_model.py").read_text()


def test_patch_rewrites_exactly_the_eight_bytencoder_defaults():
    src = _var_model_source()
    patched, n = compat.patch_source(src)
    assert n == 8
    assert "= ByteEncoder()" not in patched
    assert patched.count("field(default_factory=ByteEncoder)") == 8
    assert compat.patch_source(patched) == (patched, 0)  # an already fixed source is left alone
    compile(patched, "var_model.py", "exec")


def test_finder_steps_aside_for_other_modules_and_fixed_sources(tmp_path, monkeypatch):
    finder = compat.VarModelFinder()
    assert finder.find_spec("lava.magma.compiler.compiler") is None
    pkg = tmp_path / "lava" / "magma" / "compiler"
    pkg.mkdir(parents=True)
    (pkg / "var_model.py").write_text("x: int = 1\n")
    spec = finder.find_spec(compat.TARGET, [str(pkg)])
    assert spec is None  # nothing to fix: the normal import machinery loads it


@pytest.mark.lava
def test_tiny_network_runs_after_install_in_a_fresh_interpreter():
    code = textwrap.dedent("""
        from snnc.backends.lava import compat
        compat.install(); compat.install()
        import numpy as np
        from lava.proc.io.source import RingBuffer
        from lava.proc.dense.process import Dense
        from lava.proc.lif.process import LIF
        from lava.magma.core.run_conditions import RunSteps
        from lava.magma.core.run_configs import Loihi2SimCfg
        import lava.magma.compiler.var_model as vm
        assert vm.__file__.endswith("var_model.py") and vm.CoreEncoder().x is not vm.CoreEncoder().x
        src = RingBuffer(data=np.ones((2, 3), np.int32)); d = Dense(weights=np.eye(2) * 10); lif = LIF(shape=(2,), du=4095)
        src.s_out.connect(d.s_in); d.a_out.connect(lif.a_in)
        lif.run(condition=RunSteps(num_steps=3), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        u = lif.u.get(); lif.stop()
        assert list(u) == [640, 640], u
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
