"""``snnc compile --float-conv {auto,dense}``: how the compile's float runs convolve, and what each promises.

- dense: the fidelity reference is the PyTorch model bit for bit. Oracle: the torch module's own forward
  (``SpikingNet.forward_record``) on the same held-out frames, per-layer spike totals equal.
- auto (the default): the event-driven conv really runs in the float runs (calibration and probes), and the
  reference stays within float rounding of the model: per-layer spike totals within 1 %.
- A manifest written before the option existed recompiles as dense (the only behaviour then).
- A bad value exits 2 with one line and writes nothing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from snnc_testing import run_cli as _snnc

T, CALIB, HOLDOUT = 8, 8, 8


@pytest.fixture(scope="module")
def sparse_asa(tmp_path_factory):
    """A demo-size ASA LIF-SNN-3 (conv fan-ins 72 and 144, >= the event conv's 64) firing at ~5 %."""
    from snnc.data import load_dataset
    from snnc.models import build_model
    from snnc.models.activity import scale_to_rate
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    torch.manual_seed(3)
    model = build_model({**demo_config("asa"), "T": T, "widths": [8, 16, 16], "fc_hidden": 32}).eval()
    x, _ = load_dataset("synthetic", "train", 4, T, 0)
    scale_to_rate(model, torch.as_tensor(x), target=0.05, iters=12)
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "asa.pt", model, hparams={}, train_meta={})
    return path, model


def _model_totals(model, path) -> dict[str, float]:
    """Per-layer spike totals of the torch model on the compile's held-out frames, keyed as the graph's LIFs."""
    from snnc.compile_model import load_frames
    from snnc.frontends import load_graph

    x, _ = load_frames(load_graph(str(path)), "synthetic", "test", HOLDOUT, 0)
    with torch.no_grad():
        rec = model.forward_record(torch.as_tensor(np.asarray(x)))
    return {f"{k}_lif": float(v.sum()) for k, v in model.spiking_layers(rec).items()}


def _compile(path, out, float_conv: str, holdout: int = HOLDOUT) -> dict:
    from snnc.compile_model import CompileOptions, compile_model

    return compile_model(str(path), str(out), CompileOptions(target="lava", calibrate=CALIB, holdout=holdout,
                                                             float_conv=float_conv))


def test_dense_reference_is_the_torch_model(sparse_asa, tmp_path):
    path, model = sparse_asa
    layers = _compile(path, tmp_path / "dense", "dense")["fidelity"]["layers"]
    want = _model_totals(model, path)
    assert set(want) <= set(layers) and want
    assert {k: layers[k]["spikes_ref"] for k in want} == want


def test_auto_runs_event_driven_and_stays_within_rounding(sparse_asa, tmp_path, monkeypatch):
    from snnc.backends.cpu.event_conv import EventConv2d

    path, model = sparse_asa
    engaged = {"calls": 0}
    call = EventConv2d.__call__

    def counted(self, *args, **kwargs):
        y = call(self, *args, **kwargs)
        engaged["calls"] += y is not None
        return y

    monkeypatch.setattr(EventConv2d, "__call__", counted)
    _compile(path, tmp_path / "dense", "dense", holdout=0)  # float runs only: calibration and probes
    assert engaged["calls"] == 0
    _compile(path, tmp_path / "auto", "auto", holdout=0)
    assert engaged["calls"] > 0
    layers = _compile(path, tmp_path / "auto-fid", "auto")["fidelity"]["layers"]
    for name, total in _model_totals(model, path).items():
        assert abs(layers[name]["spikes_ref"] - total) <= 0.01 * max(total, 1.0), name


def test_manifest_without_the_option_recompiles_dense(sparse_asa, tmp_path):
    from snnc.compile_model import options_from_manifest

    path, _ = sparse_asa
    _compile(path, tmp_path / "a", "auto", holdout=0)
    assert options_from_manifest(tmp_path / "a").float_conv == "auto"
    manifest = tmp_path / "a" / "manifest.json"
    shown = json.loads(manifest.read_text())
    del shown["options"]["float_conv"]
    manifest.write_text(json.dumps(shown))
    assert options_from_manifest(tmp_path / "a").float_conv == "dense"


def test_bad_value_is_one_line(capsys, tmp_path, sparse_asa):
    path, _ = sparse_asa
    code, _, err = _snnc(capsys, "compile", str(path), "--target", "lava", "--float-conv", "fast",
                         "-o", str(tmp_path / "out"))
    lines = [line for line in err.strip().splitlines() if line]
    assert code == 2 and len(lines) == 1 and "--float-conv" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out").exists()
