"""Third-party NIR graphs through every target (issue 13, item 3): T, dt and data from the command line.

The graphs are the NIR paper's own files (../shared/nir-reference): Sinabs' N-MNIST CNN (IF neurons,
written by nir 0.2.0, so IF resets by subtraction) and snnTorch's recurrent Braille CubaLIF graphs (dt
1e-4 s, which the files do not carry). No data file is given: the graphs' inputs are not snnc's 2x32x32,
so calibration/hold-out fall back to seeded random events of the graph's input shape.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from snnc_testing import run_cli as _snnc

CNN = "02_cnn/cnn_sinabs.nir"
BRAILLE = ("03_rnn/braille_noDelay_bias_zero.nir", "03_rnn/braille_noDelay_noBias_subtract.nir")
ROCKPOOL = Path(__file__).resolve().parents[1] / "data" / "interop" / "rockpool" / "dense.nir"


def _one_line_error(code: int, err: str, *needles: str) -> str:
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("snnc: error:") and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def _compile(capsys, src, target: str, out: Path, *extra) -> dict:
    code, stdout, err = _snnc(capsys, "compile", str(src), "--target", target, "--holdout", "2", "-o", str(out), *extra)
    assert code == 0, err
    return json.loads((out / "report.json").read_text())


def _simulate(capsys, src, js: Path, *extra) -> dict:
    code, out, err = _snnc(capsys, "simulate", str(src), "--samples", "2", "--json", str(js), *extra)
    assert code == 0, err
    return json.loads(js.read_text())


def _layer_spikes(result: dict) -> dict[str, float]:
    return {lay["name"]: lay["spikes_per_sample"] for lay in result["layers"]}


def _check_target(capsys, tmp_path, src: Path, target: str, *flags: str) -> None:
    """compile -> simulate with the target's backend: spikes equal the source graph's, spike for spike."""
    art = tmp_path / f"art-{target}"
    report = _compile(capsys, src, target, art, *flags)
    assert all(r["step_agreement"] == 1.0 for r in report["fidelity"]["layers"].values())
    assert "accuracy" not in report["fidelity"]  # no labels: spike agreement only
    assert any("random binary events" in n for n in report["notes"])
    if target == "onnx":
        res = _simulate(capsys, art, tmp_path / "o.json", "--backend", "onnx", "--compare", "cpu")
        assert res["compare"]["identical"] and res["compare"]["layers"]
    else:  # cpu, nir: the artifact on the cpu simulator equals the third-party graph itself
        res = _simulate(capsys, art, tmp_path / "a.json")
        dt = list(flags[flags.index("--dt"):][:2]) if "--dt" in flags else []
        ref = _simulate(capsys, src, tmp_path / "r.json", "--T", "20", *dt)
        assert _layer_spikes(res) == _layer_spikes(ref)
    assert res["T"] == 20 and sum(_layer_spikes(res).values()) > 0


@pytest.mark.parametrize("target", ["cpu", "nir", "onnx"])
def test_cnn_sinabs_every_target(capsys, tmp_path, nir_reference, target):
    _check_target(capsys, tmp_path, nir_reference / CNN, target, "--T", "20", "--calibrate", "0")


@pytest.mark.parametrize("graph", BRAILLE)
@pytest.mark.parametrize("target", ["cpu", "nir", "onnx"])
def test_braille_every_target_with_dt(capsys, tmp_path, nir_reference, graph, target):
    _check_target(capsys, tmp_path, nir_reference / graph, target, "--T", "20", "--dt", "1e-4")


@pytest.mark.lava  # ~11 s
def test_cnn_sinabs_on_lava_all_spikes_identical(capsys, tmp_path, nir_reference):
    art = tmp_path / "A"
    report = _compile(capsys, nir_reference / CNN, "lava", art, "--T", "20")
    assert (art / "lava" / "spec.json").exists()
    assert any("compiled in float" in n for n in report["notes"])  # quantize maps LIF only; these are IF
    res = _simulate(capsys, art, tmp_path / "l.json", "--backend", "lava", "--compare", "cpu")
    assert res["T"] == 20 and res["compare"]["identical"]
    assert all(r["spikes_backend"] > 0 for r in res["compare"]["layers"])


@pytest.mark.parametrize("graph", BRAILLE)
def test_braille_on_lava_is_refused_up_front(capsys, tmp_path, nir_reference, graph):
    code, _, err = _snnc(capsys, "compile", str(nir_reference / graph), "--target", "lava", "--T", "20",
                         "--dt", "1e-4", "-o", str(tmp_path / "L"))
    _one_line_error(code, err, "--target lava", "'lif1.lif'", "CubaLIF", "cannot run on Lava")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["compile", "simulate"])
def test_no_dt_is_an_error_naming_dt(capsys, tmp_path, nir_reference, command):
    extra = ["--target", "cpu", "-o", str(tmp_path / "o")] if command == "compile" else []
    code, _, err = _snnc(capsys, command, str(nir_reference / BRAILLE[0]), "--T", "20", *extra)
    # lif2: tau_syn = 2e-4 s, so the default dt = 1e-3 s would give dt/tau_syn = 5
    _one_line_error(code, err, "--dt", "'lif2'", "dt/tau_syn = 5")
    assert list(tmp_path.iterdir()) == []


def test_if_graph_needs_no_dt(capsys, tmp_path, nir_reference):
    """IF does not depend on dt: cnn_sinabs compiles without --dt (and records none)."""
    from snnc.compiler.ir.serialize import read_graph

    _compile(capsys, nir_reference / CNN, "cpu", tmp_path / "A", "--T", "20", "--holdout", "0")
    assert "dt" not in read_graph(tmp_path / "A" / "graph.nir").metadata["snnc"]


def test_no_T_is_an_error_naming_T(capsys, tmp_path, nir_reference):
    code, _, err = _snnc(capsys, "compile", str(nir_reference / CNN), "--target", "cpu", "-o", str(tmp_path / "o"))
    _one_line_error(code, err, "--T")
    assert list(tmp_path.iterdir()) == []


def test_T_is_recorded_in_the_artifact(capsys, tmp_path, nir_reference):
    from snnc.compiler.ir.serialize import read_graph

    _compile(capsys, nir_reference / BRAILLE[0], "cpu", tmp_path / "A", "--T", "7", "--dt", "1e-4")
    meta = read_graph(tmp_path / "A" / "graph.nir").metadata["snnc"]
    assert meta["T"] == 7 and meta["dt"] == 1e-4
    res = _simulate(capsys, tmp_path / "A", tmp_path / "s.json")  # no --T, no --dt: the artifact's
    assert res["T"] == 7


def test_data_file_sets_T(capsys, tmp_path, nir_reference):
    """A 50-step .npy: simulate says T=50 (header and JSON); compile records it; --T 20 disagrees: error."""
    from snnc.compiler.ir.serialize import read_graph

    x = (np.random.default_rng(5).random((3, 50, 2, 34, 34)) < 0.1).astype(np.float32)
    data = tmp_path / "x50.npy"
    np.save(data, x)
    code, out, err = _snnc(capsys, "simulate", str(nir_reference / CNN), "--data", str(data), "--json",
                           str(tmp_path / "s.json"))
    assert code == 0, err
    assert "T=50" in out.splitlines()[0] and json.loads((tmp_path / "s.json").read_text())["T"] == 50
    code, _, err = _snnc(capsys, "simulate", str(nir_reference / CNN), "--data", str(data), "--T", "20")
    _one_line_error(code, err, "--T 20", str(data), "50")
    _compile(capsys, nir_reference / CNN, "cpu", tmp_path / "A", "--data", str(data))
    assert read_graph(tmp_path / "A" / "graph.nir").metadata["snnc"]["T"] == 50


def test_old_version_is_said_by_report_and_inspect(capsys, tmp_path, nir_reference):
    report = _compile(capsys, nir_reference / CNN, "cpu", tmp_path / "A", "--T", "4", "--holdout", "0")
    assert any("written by nir 0.2.0: IF resets by subtraction" in n for n in report["notes"])
    code, out, err = _snnc(capsys, "inspect", str(nir_reference / CNN))
    assert code == 0 and "written by nir 0.2.0: IF resets by subtraction" in out


def test_nir_target_has_no_standard_file_for_subtractive_reset(capsys, tmp_path, nir_reference):
    """NIR 1.0.8 cannot say 'reset by subtraction': a standard.nir would be read with reset to zero."""
    report = _compile(capsys, nir_reference / CNN, "nir", tmp_path / "A", "--T", "4", "--holdout", "0")
    assert not (tmp_path / "A" / "standard.nir").exists()
    assert any("resets by subtraction" in n and n.startswith("nir: no standard.nir") for n in report["notes"])


def test_fixed_point_without_data_uses_the_weights(capsys, tmp_path, nir_reference):
    report = _compile(capsys, nir_reference / "01_lif/lif_norse.nir", "cpu", tmp_path / "A", "--fixed-point",
                      "--dt", "1e-4", "--T", "50")
    assert "quantize" in [p["name"] for p in report["passes"]]
    assert any("fixed-point scales from the weights only" in n for n in report["notes"])


def test_dt_tau_within_1e6_of_one_counts_as_one(capsys, tmp_path):
    """snnTorch writes tau = dt in float32: dt/tau = 1.0000002 is 1 (beta = 0), not a refusal."""
    import nir

    from snnc.compiler.ir.serialize import write_graph
    from snnc.compiler.ir.graph_utils import make_graph

    def lif_graph(tau: float):
        return make_graph({
            "input": nir.Input(input_type={"input": np.array([3])}),
            "fc": nir.Affine(weight=np.eye(3, dtype=np.float32) * 0.6, bias=np.zeros(3, np.float32)),
            "lif": nir.LIF(tau=np.full(3, tau, np.float32), r=np.ones(3, np.float32), v_leak=np.zeros(3, np.float32),
                           v_threshold=np.ones(3, np.float32)),
            "output": nir.Output(output_type={"output": np.array([3])}),
        }, [("input", "fc"), ("fc", "lif"), ("lif", "output")])

    dt = 1e-3
    near = np.float32(dt / 1.0000002)
    assert 1.0 < dt / float(near) <= 1.0 + 1e-6
    write_graph(tmp_path / "near.nir", lif_graph(float(near)))
    write_graph(tmp_path / "one.nir", lif_graph(dt))
    a = _simulate(capsys, tmp_path / "near.nir", tmp_path / "a.json", "--dt", str(dt), "--T", "12")
    b = _simulate(capsys, tmp_path / "one.nir", tmp_path / "b.json", "--dt", str(dt), "--T", "12")
    assert _layer_spikes(a) == _layer_spikes(b)
    write_graph(tmp_path / "far.nir", lif_graph(dt / 1.00001))
    code, _, err = _snnc(capsys, "simulate", str(tmp_path / "far.nir"), "--dt", str(dt), "--samples", "1")
    _one_line_error(code, err, "'lif'", "outside (0, 1]", "--dt")


@pytest.mark.skipif(not ROCKPOOL.exists(), reason="tests/data/interop/rockpool/dense.nir not present")
def test_batch_typed_rockpool_file_compiles(capsys, tmp_path):
    report = _compile(capsys, ROCKPOOL, "onnx", tmp_path / "R", "--T", "10", "--dt", "1e-3")
    assert any("batch dimension" in n and "[1, 12]" in n for n in report["notes"])


def test_regress_of_a_graph_without_dt_is_refused(capsys, tmp_path, nir_reference):
    code, _, err = _snnc(capsys, "regress", str(nir_reference / BRAILLE[0]), "--golden", str(tmp_path / "g.json"))
    _one_line_error(code, err, "'lif2'", "snnc compile --dt")
    assert list(tmp_path.iterdir()) == []


def test_compile_T_against_the_data_file_and_labels(capsys, tmp_path, nir_reference):
    """compile: --T against a file of another T is an error naming both; an .npz with labels gives accuracy."""
    rng = np.random.default_rng(6)
    data = tmp_path / "d.npz"
    np.savez(data, x=(rng.random((4, 9, 2, 34, 34)) < 0.1).astype(np.float32), y=np.array([0, 1, 2, 3]))
    code, _, err = _snnc(capsys, "compile", str(nir_reference / CNN), "--target", "cpu", "--data", str(data),
                         "--T", "20", "-o", str(tmp_path / "o"))
    _one_line_error(code, err, "--T 20", str(data), "9 steps")
    report = _compile(capsys, nir_reference / CNN, "cpu", tmp_path / "A", "--data", str(data))
    assert report["fidelity"]["samples"] == 2 and "accuracy" in report["fidelity"]


def test_T_that_the_attention_was_not_built_for(capsys, tmp_path):
    """A compiled ASA artifact holds gains for its own T: a longer --data file is one line, not a crash."""
    from snnc_testing import tiny_checkpoint

    ckpt = tiny_checkpoint(tmp_path / "tiny.pt")  # T = 2
    art = tmp_path / "art"
    code, _, err = _snnc(capsys, "compile", str(ckpt), "--target", "cpu", "--calibrate", "2", "--holdout", "0",
                         "-o", str(art))
    assert code == 0, err
    data = tmp_path / "x5.npy"
    np.save(data, np.zeros((1, 5, 2, 32, 32), np.float32))
    code, _, err = _snnc(capsys, "simulate", str(art), "--data", str(data))
    _one_line_error(code, err, str(data), "T = 5", "2 steps")
    code, _, err = _snnc(capsys, "compile", str(ckpt), "--target", "cpu", "--T", "5", "-o", str(tmp_path / "o"))
    _one_line_error(code, err, "--T 5", "built for T = 2")
