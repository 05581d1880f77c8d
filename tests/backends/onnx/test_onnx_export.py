"""The exported file: a valid one-step ONNX model any onnxruntime user can loop; refusals; CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from snnc.backends import onnx as onnx_backend
from snnc.backends.onnx.builder import OPSET
from snnc.errors import SnncError, UnsupportedNodeError
from snnc.regress.core import load_artifact, make_inputs
from snnc_testing import run_cli as _snnc

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "nir-reference"


def _loop(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    """Drive the file with plain onnxruntime, from its own metadata only (what an external user does)."""
    model = onnx.load(str(path))
    info = json.loads({p.key: p.value for p in model.metadata_props}["snnc"])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    n, T = x.shape[:2]
    state = {s["name"]: np.zeros((n, *s["shape"]), s["dtype"]) for s in info["states"]}
    names = [f"spikes__{s}" for s in info["spiking"]]
    rec = {s: [] for s in info["spiking"]}
    for t in range(T):
        res = sess.run(None, {"x": x[:, t], "t": np.array(t, np.int64), **state})
        out = dict(zip([o.name for o in sess.get_outputs()], res))
        for s, name in zip(info["spiking"], names):
            rec[s].append(out[name])
        state = {k: out[f"{k}__next"] for k in state}
    return {s: np.stack(v, 1) for s, v in rec.items()}


@pytest.mark.parametrize("numerics, timing", [("float", "snnc"), ("fixed", "lava")])
def test_exported_file_runs_standalone(demo_artifact, tmp_path, numerics, timing):
    graph = load_artifact(demo_artifact("asa", numerics)).graph
    path = tmp_path / "model.onnx"
    step = onnx_backend.export_onnx(graph, path, timing=timing)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == OPSET
    assert {i.name for i in model.graph.input} >= {"x", "t"} | {s.name for s in step.states}
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    x, _ = make_inputs(graph, 2, seed=5)
    ref = onnx_backend.run(graph, x, timing=timing)
    got = _loop(path, x)
    for k in ref.spikes:
        np.testing.assert_array_equal(got[k], ref.spikes[k])


def test_asa_is_refused(demo_artifact):
    from snnc.frontends import load_graph

    graph = load_graph(demo_artifact("asa", "float").parent / "demo-asa.pt")  # the checkpoint: exact ASA nodes
    with pytest.raises(UnsupportedNodeError, match=r"node 'b\d+_attn' \(ASA\) needs the whole window.*fuse"):
        onnx_backend.run(graph, np.zeros((1, 8, 2, 32, 32), np.float32))


@pytest.mark.parametrize("timing", ["snnc", "lava"])
@pytest.mark.parametrize("path, dt", [("03_rnn/braille_noDelay_bias_zero.nir", 1e-4),
                                      ("03_rnn/braille_noDelay_noBias_subtract.nir", 1e-4),
                                      ("01_lif/lif_norse.nir", 1e-4)])
def test_nir_reference_recurrent_and_lif_match_cpu(path, dt, timing):
    """snnTorch's recurrent CubaLIF Braille nets (a recurrent Affine: state rec__*) and Norse's LIF (tau, r, no
    metadata), at the dt they were exported for."""
    if not REFERENCE.exists():
        pytest.skip("nir-reference not present")
    from snnc.backends import cpu
    from snnc.frontends import load_graph

    graph = load_graph(REFERENCE / path)
    graph.metadata = {**(graph.metadata or {}), "snnc": {**((graph.metadata or {}).get("snnc") or {}), "dt": dt}}
    x, _ = make_inputs(graph, 3, seed=0, T=40)
    ref, got = cpu.run(graph, x, timing=timing), onnx_backend.run(graph, x, timing=timing)
    assert sum(float(s.sum()) for s in ref.spikes.values()) > 0
    for k in ref.spikes:
        np.testing.assert_array_equal(got.spikes[k], ref.spikes[k])
    np.testing.assert_array_equal(got.output, ref.output)


def test_wrong_input_shape(demo_artifact):
    graph = load_artifact(demo_artifact("none", "float")).graph
    with pytest.raises(SnncError, match=r"input: expected frames of shape \[N, T, 2, 32, 32\]"):
        onnx_backend.run(graph, np.zeros((1, 8, 2, 16, 16), np.float32))


def test_nir_reference_cnn_matches_cpu():
    if not REFERENCE.exists():
        pytest.skip("nir-reference not present")
    from snnc.backends import cpu
    from snnc.frontends import load_graph

    graph = load_graph(REFERENCE / "02_cnn" / "cnn_sinabs.nir")  # Sinabs: IF neurons, SumPool2d
    x, _ = make_inputs(graph, 2, seed=0, T=6)
    ref, got = cpu.run(graph, x, record_voltage=True), onnx_backend.run(graph, x, record_voltage=True)
    assert sum(float(s.sum()) for s in ref.spikes.values()) > 0
    # nir 0.2.0 file: IF resets by subtraction, so v keeps the last bits of every float conv sum, and ORT's
    # Conv sums in another order than torch's. Spikes are equal up to the first step where some neuron sits
    # on its threshold within float32 rounding; there, and only there, they may differ first.
    diff = {k: np.argwhere(got.spikes[k] != ref.spikes[k]) for k in ref.spikes}
    steps = [int(d[:, 1].min()) for d in diff.values() if len(d)]
    first = min(steps, default=None)
    for k, d in diff.items():
        for i in map(tuple, d[d[:, 1] == first] if first is not None else []):
            quiet = ref.voltages[k][i] if not ref.spikes[k][i] else got.voltages[k][i]  # v of the side that did not fire
            assert abs(float(quiet) - 1.0) < 1e-5, (k, i, float(quiet))
    assert sum(len(d) for d in diff.values()) <= 1e-3 * sum(s.size for s in ref.spikes.values())


def test_cli_compile_onnx_then_simulate(capsys, tmp_path, demo_artifact):
    ckpt = demo_artifact("none", "float").parent / "demo-none.pt"
    out = tmp_path / "build"
    code, _, err = _snnc(capsys, "compile", ckpt, "--target", "onnx", "--holdout", "0", "-o", out)
    assert code == 0, err
    model = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(model)
    code, stdout, err = _snnc(capsys, "simulate", out, "--backend", "onnx", "--samples", "2")
    assert code == 0, err
    assert "Traceback" not in err


def test_cli_compile_onnx_exact_asa_refused(capsys, tmp_path, demo_artifact):
    ckpt = demo_artifact("asa", "float").parent / "demo-asa.pt"
    code, _, err = _snnc(capsys, "compile", ckpt, "--target", "onnx", "--asa-mode", "exact", "--holdout", "0",
                         "-o", tmp_path / "build")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "(ASA) needs the whole window" in lines[0], err
    assert list(tmp_path.iterdir()) == []


def test_fixed_conv_beyond_float32_exactness_refused():
    """A fixed-point conv whose integer sums could pass 2^24 (64 channels × 3×3 × 254 × 255) is refused."""
    import nir

    from snnc.compiler.ir import LoihiLIF, make_graph

    nodes = {"input": nir.Input(input_type=np.array([64, 6, 6])),
             "b0_conv": nir.Conv2d(input_shape=None, weight=np.full((2, 64, 3, 3), 254.0, np.float32), stride=1,
                                   padding=1, dilation=1, groups=1, bias=np.zeros(2, np.float32)),
             "b0_lif": LoihiLIF(du=4095, dv=1000, vth=100, bias_mant=np.zeros((2, 6, 6), np.int64),
                                bias_exp=np.full((2, 6, 6), 6, np.int64)),
             "output": nir.Output(output_type=np.array([2, 6, 6]))}
    graph = make_graph(nodes, [("input", "b0_conv"), ("b0_conv", "b0_lif"), ("b0_lif", "output")],
                       {"snnc": {"numerics": "fixed", "T": 2}})
    with pytest.raises(SnncError, match=r"Conv2d 'b0_conv': integer sums may reach .* > 2\^24"):
        onnx_backend.run(graph, np.ones((1, 2, 64, 6, 6), np.float32))
    graph.nodes["b0_conv"].weight = np.full((2, 64, 3, 3), 2.0, np.float32)  # 64·9·2·255 < 2^24: fine
    from snnc.backends import cpu

    x = np.random.default_rng(0).integers(0, 3, (2, 2, 64, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(onnx_backend.run(graph, x).spikes["b0_lif"], cpu.run(graph, x).spikes["b0_lif"])
