"""A bad-input corpus (issue 12): every bad value is refused with exit 2 and one line, and nothing is touched.

Each row of :data:`CASES` is (id, category, setup) where ``setup(d)`` writes the bad input into the case's
own folder ``d`` (which already holds a tiny model ``m.pt`` / ``m.nir``, a good ``good.npz`` and a golden
file ``golden.json``) and returns the command line plus words the error must (and must not) contain. The
command runs in-process from ``d``; then

* exit status 2, stdout empty, stderr at most one line ``snnc: error: ...``, no traceback, no RuntimeWarning
  (warnings are errors here);
* every file in ``d`` is byte-identical afterwards, none is removed and none is added (no output, no
  temporary left).

``bench/bad_inputs_summary.py`` runs the same table and prints the counts for docs/results.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pytest

HUGE = [2, 65536, 65536]  # 8.6e9 input elements per step: one sample cannot fit on any machine we run on


@dataclass
class Case:
    """One bad input: ``setup(d)`` returns (argv, words the error must contain, words it must not)."""

    id: str
    category: str
    setup: Callable[[Path], tuple[list[str], tuple[str, ...], tuple[str, ...]]]
    mem_available: int | None = None  # pretend MemAvailable is this many bytes (None: the machine's)


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    damaged: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    missing_words: list[str] = field(default_factory=list)
    forbidden_words: list[str] = field(default_factory=list)

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.err or "Traceback" in self.out or "internal error" in self.err

    @property
    def clean(self) -> bool:
        lines = self.err.strip().splitlines()
        return (self.code == 2 and not self.traceback and not self.out.strip() and len(lines) == 1
                and lines[0].startswith("snnc: error: ") and not self.damaged and not self.left
                and not self.missing_words and not self.forbidden_words)


# ---- the tiny files every case starts from ---------------------------------------------------------------

def build_base(d: Path) -> Path:
    """m.pt / m.nir (the demo LIF-SNN-3 with ASA at widths 2, T = 2), good.npz, golden.json, small.nir."""
    import nir
    import torch

    from snnc.cli import main
    from snnc.compiler.ir import write_graph
    from snnc.frontends import model_to_graph
    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = build_model({**demo_config("asa"), "widths": [2, 2, 2], "fc_hidden": 4, "T": 2}).eval()
    save_checkpoint(d / "m.pt", model, hparams={}, train_meta={})
    write_graph(d / "m.nir", model_to_graph(model))
    x = (np.random.default_rng(0).random((2, 2, 2, 32, 32)) < 0.1).astype(np.float32)
    np.savez(d / "good.npz", x=x, y=np.array([0, 1]))
    small = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([4])}),
               "fc": nir.Affine(weight=np.ones((4, 4), np.float32), bias=np.zeros(4, np.float32)),
               "lif": nir.LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4)),
               "out": nir.Output(output_type={"output": np.array([4])})},
        edges=[("in", "fc"), ("fc", "lif"), ("lif", "out")])
    nir.write(str(d / "small.nir"), small)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(["regress", str(d / "m.nir"), "--golden", str(d / "golden.json"), "--update", "--samples", "2"])
        except SystemExit as e:
            assert not e.code, "could not record the base golden file"
    return d


def _golden(d: Path, edit: Callable[[dict], None]) -> None:
    g = json.loads((d / "golden.json").read_text())
    edit(g)
    (d / "golden.json").write_text(json.dumps(g))


def _npz(d: Path, name: str = "bad.npz", **arrays) -> str:
    base = dict(np.load(d / "good.npz"))
    base.update(arrays)
    base = {k: v for k, v in base.items() if v is not None}
    np.savez(d / name, **base)
    return name


def _nir_edit(d: Path, name: str, edits: dict[str, object], src: str = "small.nir") -> str:
    shutil.copy(d / src, d / name)
    with h5py.File(d / name, "r+") as f:
        for key, value in edits.items():
            del f[key]
            f[key] = np.asarray(value)
    return name


def _cycle_nir(d: Path) -> str:
    import nir

    g = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([4])}),
               "a": nir.Affine(weight=np.ones((4, 4), np.float32), bias=np.zeros(4, np.float32)),
               "lif": nir.LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4)),
               "b": nir.Affine(weight=np.ones((4, 4), np.float32), bias=np.zeros(4, np.float32)),
               "out": nir.Output(output_type={"output": np.array([4])})},
        edges=[("in", "out"), ("a", "lif"), ("lif", "b"), ("b", "a")])
    nir.write(str(d / "cycle.nir"), g)
    return "cycle.nir"


def _huge_nir(d: Path) -> str:
    import nir

    g = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([2, 4, 4])}),
               "conv": nir.Conv2d(input_shape=(4, 4), weight=np.ones((2, 2, 1, 1), np.float32), stride=1, padding=0,
                                  dilation=1, groups=1, bias=np.zeros(2, np.float32)),
               "out": nir.Output(output_type={"output": np.array([2, 4, 4])})},
        edges=[("in", "conv"), ("conv", "out")])
    nir.write(str(d / "conv.nir"), g)
    return _nir_edit(d, "huge.nir", {"node/nodes/in/shape": HUGE, "node/nodes/out/shape": HUGE,
                                     "node/nodes/conv/input_shape": HUGE[1:]}, src="conv.nir")


def _dvs(d: Path, events: np.ndarray) -> str:
    (d / "dvs" / "user24").mkdir(parents=True)
    np.save(d / "dvs" / "user24" / "0.npy", events)
    return "dvs"


def _events(**col) -> np.ndarray:
    ev = np.array([[1, 2, 1, 0.0], [3, 4, 0, 5.0], [5, 6, 1, 20.0]], np.float64)
    for name, (row, value) in col.items():
        ev[row, "xypt".index(name)] = value
    return ev


def _torch_edit(d: Path, edit: Callable[[dict], None]) -> str:
    import torch

    ck = torch.load(d / "m.pt", weights_only=True)
    edit(ck)
    torch.save(ck, d / "bad.pt")
    return "bad.pt"


def _mismatch(ck: dict) -> None:
    import torch

    ck["state_dict"]["blocks.0.conv.weight"] = torch.zeros(5, 5, 3, 3)


def _flag(*argv: str, must: tuple[str, ...] = ()) -> Callable:
    return lambda d: (list(argv), must, ())


SIM = ("simulate", "m.pt", "--json", "out.json")
REG = ("regress", "m.nir", "--golden", "golden.json")
EXP = ("experiment", "--out", "exp", "--doc", "doc.md")

CASES: list[Case] = [
    # ---- numeric flags, refused where click parses them ----
    Case("train --seed -1", "flags", _flag("train", "--seed", "-1", "-o", "out.pt", must=("--seed",))),
    Case("compile --seed -1", "flags", _flag("compile", "m.pt", "--target", "cpu", "--seed", "-1", must=("--seed",))),
    Case("simulate --seed -1", "flags", _flag(*SIM, "--seed", "-1", must=("--seed",))),
    Case("regress --seed -1", "flags", _flag(*REG, "--seed", "-1", must=("--seed",))),
    Case("experiment --seed -1", "flags", _flag(*EXP, "--seed", "-1", must=("--seed",))),
    Case("train --lr nan", "flags", _flag("train", "--lr", "nan", must=("--lr",))),
    Case("train --lr inf", "flags", _flag("train", "--lr", "inf", must=("--lr",))),
    Case("train --width-scale inf", "flags", _flag("train", "--width-scale", "inf", must=("--width-scale",))),
    Case("train --epochs 0", "flags", _flag("train", "--epochs", "0", must=("--epochs",))),
    Case("simulate --steps 0", "flags", _flag(*SIM, "--steps", "0", must=("--steps",))),
    Case("simulate --samples 0", "flags", _flag(*SIM, "--samples", "0", must=("--samples",))),
    Case("simulate --samples 1e9", "flags", _flag(*SIM, "--samples", "1e9", must=("--samples",))),
    Case("simulate --batch 0", "flags", _flag(*SIM, "--batch", "0", must=("--batch",))),
    Case("simulate --e-mac nan", "flags", _flag(*SIM, "--e-mac", "nan", must=("--e-mac",))),
    Case("simulate --e-ac inf", "flags", _flag(*SIM, "--e-ac", "inf", must=("--e-ac",))),
    Case("simulate --dt -1", "flags", _flag(*SIM, "--dt", "-1", must=("--dt",))),
    Case("regress --rtol nan", "flags", _flag(*REG, "--rtol", "nan", must=("--rtol",))),
    Case("regress --atol inf", "flags", _flag(*REG, "--atol", "inf", must=("--atol",))),
    Case("regress --samples 0", "flags", _flag(*REG, "--samples", "0", must=("--samples",))),
    Case("compile --holdout -1", "flags", _flag("compile", "m.pt", "--target", "cpu", "--holdout", "-1",
                                                 must=("--holdout",))),
    Case("compile --calibrate lots", "flags", _flag("compile", "m.pt", "--target", "cpu", "--calibrate", "lots",
                                                     must=("--calibrate",))),
    Case("experiment --calibrate 0", "flags", _flag(*EXP, "--calibrate", "0", must=("--calibrate",))),
    # ---- data files, validated on load ----
    Case("npz: NaN labels", "data", lambda d: ([*SIM, "--data", _npz(d, y=np.array([np.nan, 1.0]))], ("y",), ())),
    Case("npz: zero samples", "data",
         lambda d: ([*SIM, "--data", _npz(d, x=np.zeros((0, 2, 2, 32, 32), np.float32), y=np.zeros(0))],
                    ("no samples",), ())),
    Case("npz: string frames", "data",
         lambda d: ([*SIM, "--data", _npz(d, x=np.full((2, 2, 2, 32, 32), "a"))], ("not numeric",), ())),
    Case("npz: string labels", "data", lambda d: ([*SIM, "--data", _npz(d, y=np.array(["a", "b"]))], ("y",), ())),
    Case("npz: one label, two samples", "data",
         lambda d: ([*SIM, "--data", _npz(d, y=np.array([0]))], ("1 labels for 2 samples",), ())),
    Case("npz: 2-D labels", "data", lambda d: ([*SIM, "--data", _npz(d, y=np.array([[0], [1]]))], ("1-D",), ())),
    Case("npz: negative label", "data", lambda d: ([*SIM, "--data", _npz(d, y=np.array([0, -1]))], ("label -1",), ())),
    Case("npz: label beyond the classes", "data",
         lambda d: ([*SIM, "--data", _npz(d, y=np.array([0, 99]))], ("label 99", "8 classes"), ())),
    Case("npz: fractional label", "data", lambda d: ([*SIM, "--data", _npz(d, y=np.array([0.5, 1.0]))], ("y",), ())),
    Case("npz: negative event counts", "data",
         lambda d: ([*SIM, "--data", _npz(d, x=-np.ones((2, 2, 2, 32, 32), np.float32))], ("negative",), ())),
    Case("npz: NaN frames", "data",
         lambda d: ([*SIM, "--data", _npz(d, x=np.full((2, 2, 2, 32, 32), np.nan, np.float32))], ("NaN",), ())),
    Case("npz: pickled objects", "data",
         lambda d: ([*SIM, "--data", _npz(d, x=np.array([{}, {}], dtype=object))], ("cannot read",), ())),
    Case("npz: no x", "data", lambda d: ([*SIM, "--data", _npz(d, x=None, z=np.zeros(2))], ("'x'",), ())),
    Case("compile --data npz with bad labels", "data",
         lambda d: (["compile", "m.pt", "--target", "cpu", "--data", _npz(d, y=np.array([0, 1, 2]))],
                    ("3 labels for 2 samples",), ())),
    Case("DVS folder: NaN timestamp", "data",
         lambda d: ([*SIM, "--data", _dvs(d, _events(t=(1, np.nan)))], ("NaN",), ())),
    Case("DVS folder: infinite timestamp", "data",
         lambda d: ([*SIM, "--data", _dvs(d, _events(t=(2, np.inf)))], ("infinite",), ())),
    Case("DVS folder: x = 1e12", "data",
         lambda d: ([*SIM, "--data", _dvs(d, _events(x=(0, 1e12)))], ("outside the sensor",), ())),
    Case("DVS folder: negative y", "data",
         lambda d: ([*SIM, "--data", _dvs(d, _events(y=(0, -3)))], ("outside the sensor",), ())),
    # ---- golden files, schema-checked in one place ----
    Case("golden: a layer {}", "golden",
         lambda d: (_golden(d, lambda g: g["layers"].__setitem__(next(iter(g["layers"])), {})) or list(REG),
                    ("golden.json", "spikes_per_t"), ())),
    Case('golden: "inputs": "x"', "golden",
         lambda d: (_golden(d, lambda g: g.__setitem__("inputs", "x")) or list(REG), ("golden.json", "inputs"), ())),
    Case('golden: "samples": "two"', "golden",
         lambda d: (_golden(d, lambda g: g["inputs"].__setitem__("samples", "two")) or list(REG),
                    ("golden.json", "inputs.samples"), ())),
    Case('golden: a count "many"', "golden",
         lambda d: (_golden(d, lambda g: next(iter(g["layers"].values()))["spikes_per_t"].__setitem__(0, "many"))
                    or list(REG), ("golden.json", "spikes_per_t[0]"), ())),
    Case('golden: "layers": [1, 2]', "golden",
         lambda d: (_golden(d, lambda g: g.__setitem__("layers", [1, 2])) or list(REG), ("golden.json", "layers"), ())),
    Case("golden: negative rtol", "golden",
         lambda d: (_golden(d, lambda g: g.__setitem__("tolerance", {"rtol": -1})) or list(REG),
                    ("tolerance.rtol",), ())),
    Case("golden: unknown backend", "golden",
         lambda d: (_golden(d, lambda g: g.__setitem__("backend", "gpu")) or list(REG), ("backend",), ())),
    # ---- NIR files ----
    Case("NIR: dimension 4.5", "nir",
         lambda d: (["inspect", _nir_edit(d, "dim.nir", {"node/nodes/in/shape": [4.5]})], ("4.5",), ())),
    Case("NIR: negative dimension", "nir",
         lambda d: (["simulate", _nir_edit(d, "neg.nir", {"node/nodes/in/shape": [-4]}), "--dt", "1e-3"],
                    ("-4",), ())),
    Case("NIR: cycle without an entry", "nir",
         lambda d: (["inspect", _cycle_nir(d)], ("cycle", "no Input reaches"), ("shape",))),
    # ---- messages that say what is wrong ----
    Case("train --dataset good.npz", "messages",
         lambda d: (["train", "--dataset", "good.npz", "-o", "out.pt"], ("not a dataset folder",),
                    ("does not exist",))),
    Case("inspect good.npz", "messages",
         lambda d: (["inspect", "good.npz"], (".npz", "not a model"), ("inline_container",))),
    Case("weights/config mismatch names the tensor", "messages",
         lambda d: (["inspect", _torch_edit(d, _mismatch)], ("blocks.0.conv.weight",), ())),
    Case("compile without --target", "messages", _flag("compile", "m.pt", must=("--target", "lava, cpu"))),
    Case("NIR without T names --T", "messages",
         lambda d: (["compile", "small.nir", "--target", "cpu", "--dt", "1e-3", "-o", "art"], ("--T",), ())),
    # ---- memory: refused up front, before any allocation ----
    Case("simulate --steps 1000000000", "memory",
         lambda d: (["simulate", "small.nir", "--dt", "1e-3", "--steps", "1000000000"], ("--steps", "MemAvailable"),
                    ())),
    Case("simulate a NIR of 8.6e9 inputs", "memory",
         lambda d: (["simulate", _huge_nir(d), "--dt", "1e-3"], ("huge.nir", "MemAvailable"), ())),
    Case("regress a NIR of 8.6e9 inputs", "memory",
         lambda d: (["regress", _huge_nir(d), "--golden", "new.json", "--update"], ("MemAvailable",), ())),
    Case("compile a NIR of 8.6e9 inputs", "memory",
         lambda d: (["compile", _huge_nir(d), "--target", "cpu", "--T", "4", "--dt", "1e-3", "-o", "art"],
                    ("--holdout", "MemAvailable"), ())),
    Case("simulate --samples 1000000000 (8 GiB free)", "memory",
         lambda d: ([*SIM, "--samples", "1000000000"], ("labels", "MemAvailable"), ()), mem_available=8 * 2**30),
    Case("compile --calibrate 1000000000 (8 GiB free)", "memory",
         lambda d: (["compile", "m.pt", "--target", "cpu", "--calibrate", "1000000000", "-o", "art"],
                    ("labels", "MemAvailable"), ()), mem_available=8 * 2**30),
    Case("train --train-samples 100000000 (8 GiB free)", "memory",
         lambda d: (["train", "--train-samples", "100000000", "-o", "out.pt"], ("frames", "MemAvailable"), ()),
         mem_available=8 * 2**30),
]


# ---- running one case ---------------------------------------------------------------------------------

def snapshot(d: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under ``d`` (hidden ones included), and every directory."""
    out = {}
    for p in sorted(d.rglob("*")):
        rel = str(p.relative_to(d))
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


@contextlib.contextmanager
def _mem_available(value: int | None):
    if value is None:
        yield
        return
    from snnc.compiler.analysis import memory

    real = memory.available_bytes
    memory.available_bytes = lambda: value
    try:
        yield
    finally:
        memory.available_bytes = real


def run_case(case: Case, base: Path, work: Path) -> Outcome:
    """Copy ``base`` to ``work``, write the case's bad input, run it from ``work``; compare the files."""
    import os

    from snnc.cli import main

    shutil.copytree(base, work)
    argv, must, must_not = case.setup(work)
    before = snapshot(work)
    out, err, code = io.StringIO(), io.StringIO(), 0
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _mem_available(case.mem_available), \
                warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a numpy RuntimeWarning is a failure
            try:
                main([str(a) for a in argv])
            except SystemExit as e:
                code = int(e.code or 0)
            except Exception as e:  # noqa: BLE001 - counted as a traceback
                code, _ = -1, err.write(f"Traceback: {type(e).__name__}: {e}\n")
    finally:
        os.chdir(cwd)
    after = snapshot(work)
    text = err.getvalue()
    return Outcome(code, out.getvalue(), text,
                   damaged=sorted(k for k in before if after.get(k) != before[k]),
                   left=sorted(k for k in after if k not in before),
                   missing_words=[w for w in must if w not in text],
                   forbidden_words=[w for w in must_not if w in text])


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return build_base(tmp_path_factory.mktemp("bad-inputs") / "base")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_in_one_line_and_touches_nothing(case: Case, base: Path, tmp_path: Path):
    o = run_case(case, base, tmp_path / "case")
    assert o.code == 2, (o.code, o.err, o.out)
    assert not o.traceback, o.err
    assert len(o.err.strip().splitlines()) == 1 and o.err.startswith("snnc: error: "), o.err
    assert not o.out.strip(), o.out
    assert not o.damaged, f"inputs changed: {o.damaged}"
    assert not o.left, f"files left behind: {o.left}"
    assert not o.missing_words, (o.missing_words, o.err)
    assert not o.forbidden_words, (o.forbidden_words, o.err)


def test_every_category_of_the_issue_is_covered():
    assert {c.category for c in CASES} == {"flags", "data", "golden", "nir", "messages", "memory"}
    assert len({c.id for c in CASES}) == len(CASES)


def test_corrupt_experiment_cache_is_recomputed_with_a_note(tmp_path, capsys):
    """A result.json holding ``[]`` (or a result with a broken field) is not a crash: it is recomputed."""
    from snnc.experiment.runner import cached_result

    path = tmp_path / "asa" / "result.json"
    path.parent.mkdir()
    for text in ("[]", "{not json", json.dumps({"key": "k", "variant": "asa"})):
        path.write_text(text)
        assert cached_result(path, "k") is None
        err = capsys.readouterr().err
        assert err.startswith("note: ") and "recomputing" in err and len(err.strip().splitlines()) == 1, err
        assert path.read_text() == text  # the old file is only replaced when the new result is written
