"""Hardening: malformed NIR/HDF5 files and checkpoints are refused by the CLI with one clean line.

Seeded hypothesis fuzzing (derandomize=True, bounded examples, no deadline) over mutations of a
valid tiny model (the demo LIF-SNN-3 with ASA at widths 2, T = 2) saved both as an snnc .nir file
and as an snnc checkpoint:

* structured corruptions that must be refused: NaN/±inf in any float parameter, non-numeric
  dtypes, absurd or inconsistent shapes, missing fields, absurd configs (T, widths, sizes, NaN
  decays), tensors of the wrong shape, missing state-dict entries;
* raw byte corruptions: truncation (must be refused) and single bit flips (refused cleanly, or
  accepted when the flip lands in a harmless place, e.g. one weight's low mantissa bit).

For every file, ``snnc inspect``, ``snnc compile`` and ``snnc simulate --json`` must exit 2 with one
line ``snnc: error: ...`` (never an internal error or a traceback) and write nothing.
"""

from __future__ import annotations

import contextlib
import copy
import io
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.cli import main

#: bounded so the whole module stays well under a minute on a 2-core CI box (each example runs
#: three CLI commands on a freshly corrupted file)
FUZZ = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=8)

BASE_DIR = Path(tempfile.mkdtemp(prefix="snnc-fuzz-"))


def _base_files() -> tuple[Path, Path]:
    from snnc.compiler.ir import write_graph
    from snnc.frontends import model_to_graph
    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    ckpt, nirf = BASE_DIR / "base.pt", BASE_DIR / "base.nir"
    if not ckpt.exists():
        torch.manual_seed(0)
        model = build_model({**demo_config("asa"), "widths": [2, 2, 2], "fc_hidden": 4, "T": 2}).eval()
        save_checkpoint(ckpt, model, hparams={}, train_meta={})
        write_graph(nirf, model_to_graph(model))
    return ckpt, nirf


BASE_PT, BASE_NIR = _base_files()


def _datasets(path: Path) -> dict[str, tuple]:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, (o.dtype, o.shape)) if isinstance(o, h5py.Dataset) else None)
    return out


DATASETS = _datasets(BASE_NIR)
FLOAT_PARAMS = sorted(n for n, (dt, shape) in DATASETS.items()
                      if dt.kind == "f" and "/nodes/" in n and n.rsplit("/", 1)[1] != "input_shape")
#: extension nodes are stored as stock placeholders whose own fields are ignored on reading
PLACEHOLDERS = {n.split("/")[2] for n in DATASETS if "/metadata/snnc_ext/" in n}
NODE_FIELDS = sorted(n for n in DATASETS if n.startswith("node/nodes/") and n.count("/") == 3
                     and not n.endswith("/type") and n.split("/")[2] not in PLACEHOLDERS)
SD = torch.load(BASE_PT, weights_only=True)
FLOAT_TENSORS = sorted(k for k, v in SD["state_dict"].items() if v.is_floating_point())


def _cli(*args) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    return code, err.getvalue()


def _run_all(path: Path, must_refuse: bool = True) -> None:
    """inspect / compile / simulate on ``path``: a clean one-line refusal, nothing written."""
    work = path.parent
    before = sorted(p.name for p in work.iterdir())
    commands = {
        "inspect": ["inspect", path],
        "compile": ["compile", path, "--target", "cpu", "--calibrate", "2", "--holdout", "0", "-o", work / "out"],
        "simulate": ["simulate", path, "--samples", "1", "--json", work / "sim.json"],
    }
    for name, args in commands.items():
        code, err = _cli(*args)
        if code == 0 and not must_refuse:
            shutil.rmtree(work / "out", ignore_errors=True)
            (work / "sim.json").unlink(missing_ok=True)
            continue
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2, f"{name}: exit {code}: {err}"
        assert len(lines) == 1 and lines[0].startswith("snnc: error: "), f"{name}: {err}"
        assert "internal error" not in err and "Traceback" not in err, f"{name}: {err}"
        assert sorted(p.name for p in work.iterdir()) == before, f"{name} wrote files: {err}"


@contextlib.contextmanager
def _copy(base: Path, suffix: str):
    work = Path(tempfile.mkdtemp(prefix="case-", dir=BASE_DIR))
    path = work / f"model{suffix}"
    shutil.copy(base, path)
    try:
        yield path
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _replace(f: h5py.File, name: str, value) -> None:
    attrs = dict(f[name].attrs)
    del f[name]
    f[name] = value
    for k, v in attrs.items():
        f[name].attrs[k] = v


# ---------------------------------------------------------------- NIR / HDF5 files

@FUZZ
@given(name=st.sampled_from(FLOAT_PARAMS), value=st.sampled_from([np.nan, np.inf, -np.inf]), where=st.integers(0, 10**6))
def test_nir_nan_inf_parameters_refused(name, value, where):
    with _copy(BASE_NIR, ".nir") as path:
        with h5py.File(path, "r+") as f:
            a = np.array(f[name][()])
            if a.ndim == 0:
                a = np.asarray(value, dtype=a.dtype)
            else:
                a.flat[where % a.size] = value
            _replace(f, name, a)
        _run_all(path)


@st.composite
def bad_fields(draw):
    """A node field replaced by something of the wrong dtype or an absurd/inconsistent shape, or deleted."""
    name = draw(st.sampled_from(NODE_FIELDS))
    dtype, shape = DATASETS[name]
    kind = draw(st.sampled_from(["string", "complex", "shape", "delete"]))
    if kind == "string":
        return name, "not a number"
    if kind == "complex":
        return name, np.ones(shape or (1,), np.complex64) * (1 + 2j)
    if kind == "delete":
        return name, None
    bad = draw(st.lists(st.integers(0, 9), min_size=1, max_size=4).filter(lambda s: tuple(s) != tuple(shape)))
    return name, np.full(bad, 3, dtype if dtype.kind in "if" else np.float32)


def _required_change(name: str, value) -> bool:
    """Some shape changes are harmless (e.g. a (2,) stride given as (2, 2)...); those may be accepted."""
    return not (isinstance(value, np.ndarray) and value.dtype.kind in "if")


@FUZZ
@given(case=bad_fields())
def test_nir_bad_fields_refused_cleanly(case):
    name, value = case
    with _copy(BASE_NIR, ".nir") as path:
        with h5py.File(path, "r+") as f:
            if value is None:
                del f[name]
            else:
                _replace(f, name, value)
        _run_all(path, must_refuse=_required_change(name, value))


@FUZZ
@given(shape=st.lists(st.sampled_from([-5, 0, 1, 2, 32, 2**31, 2**40]), min_size=0, max_size=4))
def test_nir_absurd_input_shapes_refused(shape):
    with _copy(BASE_NIR, ".nir") as path:
        with h5py.File(path, "r+") as f:
            _replace(f, "node/nodes/input/shape", np.asarray(shape, np.int64))
        _run_all(path, must_refuse=list(shape) != [2, 32, 32])


@FUZZ
@given(fraction=st.floats(0.0, 0.999))
def test_nir_truncated_refused(fraction):
    data = BASE_NIR.read_bytes()
    with _copy(BASE_NIR, ".nir") as path:
        path.write_bytes(data[: int(len(data) * fraction)])
        _run_all(path)


@FEW
@given(bits=st.lists(st.integers(0, 8 * BASE_NIR.stat().st_size - 1), min_size=1, max_size=3))
def test_nir_bit_flips_never_crash(bits):
    data = bytearray(BASE_NIR.read_bytes())
    for b in bits:
        data[b // 8] ^= 1 << (b % 8)
    with _copy(BASE_NIR, ".nir") as path:
        path.write_bytes(bytes(data))
        _run_all(path, must_refuse=False)


# ---------------------------------------------------------------- checkpoints

def _save(path: Path, ckpt: dict) -> None:
    path.unlink()
    torch.save(ckpt, path)


@FUZZ
@given(key=st.sampled_from(FLOAT_TENSORS), value=st.sampled_from([float("nan"), float("inf"), -float("inf")]),
       where=st.integers(0, 10**6))
def test_checkpoint_nan_inf_refused(key, value, where):
    ckpt = copy.deepcopy(SD)
    t = ckpt["state_dict"][key]
    if t.numel() == 0:
        return
    t.view(-1)[where % t.numel()] = value
    with _copy(BASE_PT, ".pt") as path:
        _save(path, ckpt)
        _run_all(path)


#: config key -> values that are invalid for it (wrong type, out of range, absurd size, NaN/inf)
BAD_CONFIG = {
    "T": [-1, 0, 10**9, 2**62, float("nan"), "eight", None, True],
    "widths": [-1, [], [0, 0, 0], [10**6] * 3, "wide", None, [2, 2]],
    "input_size": [[0, 0], [10**6, 10**6], -1, None, "big"],
    "fc_hidden": [-1, 0, 10**9, float("nan"), "x", None],
    "num_classes": [-1, 0, 10**9, "x", None],
    "in_channels": [0, -3, 10**7, None],
    "beta": [-1.0, 1.0, 1.5, float("nan"), float("inf"), "x", None],
    "v_th": [-1.0, float("nan"), float("inf"), "x", None],
    "lam": [-0.5, 1.5, float("nan"), None],
    "model": ["resnet-9000", 3, None],
    "attention": ["magic", 3, None],
}


@st.composite
def bad_configs(draw):
    key = draw(st.sampled_from(sorted(BAD_CONFIG)))
    return key, draw(st.sampled_from(BAD_CONFIG[key]))


@FUZZ
@given(case=bad_configs())
def test_checkpoint_bad_config_refused(case):
    key, value = case
    ckpt = copy.deepcopy(SD)
    ckpt["config"][key] = value
    with _copy(BASE_PT, ".pt") as path:
        _save(path, ckpt)
        _run_all(path)


@FUZZ
@given(key=st.sampled_from(sorted(SD["state_dict"])), kind=st.sampled_from(["shape", "delete", "string"]))
def test_checkpoint_bad_state_dict_refused(key, kind):
    ckpt = copy.deepcopy(SD)
    if kind == "delete":
        del ckpt["state_dict"][key]
    elif kind == "string":
        ckpt["state_dict"][key] = "weights"
    else:
        ckpt["state_dict"][key] = torch.zeros(tuple(s + 1 for s in SD["state_dict"][key].shape) or (3,))
    with _copy(BASE_PT, ".pt") as path:
        _save(path, ckpt)
        _run_all(path)


@FUZZ
@given(fraction=st.floats(0.0, 0.999))
def test_checkpoint_truncated_refused(fraction):
    data = BASE_PT.read_bytes()
    with _copy(BASE_PT, ".pt") as path:
        path.write_bytes(data[: int(len(data) * fraction)])
        _run_all(path)


@FEW
@given(bits=st.lists(st.integers(0, 8 * BASE_PT.stat().st_size - 1), min_size=1, max_size=3))
def test_checkpoint_bit_flips_never_crash(bits):
    data = bytearray(BASE_PT.read_bytes())
    for b in bits:
        data[b // 8] ^= 1 << (b % 8)
    with _copy(BASE_PT, ".pt") as path:
        path.write_bytes(bytes(data))
        _run_all(path, must_refuse=False)


def teardown_module(module) -> None:
    shutil.rmtree(BASE_DIR, ignore_errors=True)


pytestmark = pytest.mark.filterwarnings("ignore")
