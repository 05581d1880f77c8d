"""``snnc simulate``: reports, JSON, plot, artifacts, and one-line errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from snnc_testing import run_cli as _snnc


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from snnc.models.activity import scale_to_rate
    from snnc.data import load_dataset
    from snnc.models import build_model
    from snnc.models.checkpoint import save_checkpoint
    from snnc.models.registry import demo_config

    d = tmp_path_factory.mktemp("ckpt")
    x, _ = load_dataset("synthetic", "train", 2, 8, 0)
    paths = {}
    for att in ("asa", "none"):
        torch.manual_seed(0)
        m = build_model(dict(demo_config(att), widths=[4, 8, 8], fc_hidden=16)).eval()
        scale_to_rate(m, torch.as_tensor(x))
        paths[att] = save_checkpoint(d / f"{att}.pt", m, hparams={}, train_meta={})
    return paths


def test_energy_report_with_baseline_json_and_plot(capsys, checkpoints, tmp_path):
    js, png = tmp_path / "r.json", tmp_path / "r.png"
    code, out, err = _snnc(capsys, "simulate", str(checkpoints["asa"]), "--samples", "4", "--batch", "3",
                           "--report-energy", "--baseline", str(checkpoints["none"]), "--json", str(js), "--plot", str(png))
    assert code == 0, err
    assert "r_REC" in out and "b0_conv" in out and "accuracy" in out
    r = json.loads(js.read_text())
    assert r["samples"] == 4 and r["T"] == 8
    assert [row["name"] for row in r["energy"]["layers"]] == ["b0_conv", "b1_conv", "b2_conv", "b3_fc", "b4_fc"]
    assert len(r["energy"]["attention"]) == 3 and 0.0 <= r["accuracy"] <= 1.0
    c = r["comparison"]
    assert c["delta_e_pj"] == pytest.approx(4.6 * c["delta_mac"] - 0.9 * c["delta_ac"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_artifact_directory_and_nir_file(capsys, checkpoints, tmp_path, nir_reference):
    from snnc.compiler.ir.serialize import write_graph
    from snnc.frontends import load_graph

    art = tmp_path / "build"
    art.mkdir()
    write_graph(art / "graph.nir", load_graph(str(checkpoints["none"])))
    from snnc.artifact_manifest import write_manifest

    write_manifest(art, target="cpu")  # an artifact directory is verified against its manifest
    code, out, err = _snnc(capsys, "simulate", str(art), "--samples", "2", "--timing", "lava")
    assert code == 0, err
    assert "timing lava" in out
    code, out, err = _snnc(capsys, "simulate", str(nir_reference / "02_cnn" / "cnn_sinabs.nir"), "--samples", "2",
                           "--steps", "5", "--report-energy", "--e-ac", "1.0")
    assert code == 0, err
    assert "E_AC 1.0 pJ" in out and "Loihi" in out


def _bad(capsys, *args):
    code, out, err = _snnc(capsys, *args)
    assert code != 0
    assert err.strip().startswith("snnc: error:") and err.strip().count("\n") == 0, err
    assert "Traceback" not in err
    return err


def test_bad_input_is_one_line(capsys, checkpoints, tmp_path):
    ck = str(checkpoints["none"])
    js = tmp_path / "out.json"
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((2, 8, 2, 16, 16), np.float32))
    assert "does not match" in _bad(capsys, "simulate", ck, "--data", str(wrong), "--json", str(js))
    text = tmp_path / "text.npy"
    np.save(text, np.full((2, 8, 2, 32, 32), "a"))
    assert "not numeric" in _bad(capsys, "simulate", ck, "--data", str(text), "--json", str(js))
    nan = tmp_path / "nan.npz"
    x = np.zeros((2, 8, 2, 32, 32), np.float32)
    x[1, 3, 0, 4, 4] = np.nan
    np.savez(nan, x=x)
    assert "NaN" in _bad(capsys, "simulate", ck, "--data", str(nan), "--json", str(js))
    assert "--samples" in _bad(capsys, "simulate", ck, "--samples", "0", "--json", str(js))
    assert "--backend" in _bad(capsys, "simulate", ck, "--backend", "nosuch")
    assert "no such file" in _bad(capsys, "simulate", str(tmp_path / "missing.pt"))
    assert not js.exists()  # no partial output


def test_raw_baseline_is_compiled_like_the_artifact(capsys, checkpoints, tmp_path):
    """An artifact compared with a raw checkpoint: the baseline runs through the artifact's own passes,
    so every layer of Eqs. S3–S4 has the same structure (same FL) on both sides."""
    art, js = tmp_path / "art", tmp_path / "r.json"
    code, _, err = _snnc(capsys, "compile", str(checkpoints["asa"]), "--target", "cpu", "--fixed-point",
                         "--calibrate", "4", "--holdout", "0", "-o", str(art))
    assert code == 0, err
    code, out, err = _snnc(capsys, "simulate", str(art), "--samples", "4", "--report-energy",
                           "--baseline", str(checkpoints["none"]), "--json", str(js))
    assert code == 0, err
    r = json.loads(js.read_text())
    manifest = json.loads((art / "manifest.json").read_text())
    assert r["baseline"]["compiled_with"] == manifest["passes"]
    flops = {row["name"]: row["flops"] for row in r["energy"]["layers"]}
    base_flops = {row["name"]: row["flops"] for row in r["baseline"]["energy"]["layers"]}
    assert flops == base_flops  # b1/b2: fused 4x4/s2 convs on both sides, not 3x3 convs + pool
    assert "compiled with the artifact's passes" in out


def test_event_conv_counts_equal_dense_on_a_fixed_point_artifact(capsys, checkpoints, tmp_path):
    """--conv event sums integer weights exactly, so a fixed-point artifact gives the same spikes and
    synaptic operations as the dense path (which the other tests pin)."""
    art = tmp_path / "fixed"
    code, _, err = _snnc(capsys, "compile", str(checkpoints["asa"]), "--target", "cpu", "--fixed-point",
                         "--calibrate", "4", "--holdout", "0", "-o", str(art))
    assert code == 0, err
    reports = {}
    for conv in ("dense", "event"):
        js = tmp_path / f"{conv}.json"
        code, _, err = _snnc(capsys, "simulate", str(art), "--samples", "3", "--report-energy", "--conv", conv,
                             "--json", str(js))
        assert code == 0, err
        reports[conv] = json.loads(js.read_text())
    d, e = reports["dense"], reports["event"]
    assert [l["spikes_per_sample"] for l in d["layers"]] == [l["spikes_per_sample"] for l in e["layers"]]
    assert [r["sop"] for r in d["energy"]["layers"]] == [r["sop"] for r in e["energy"]["layers"]]
    assert sum(l["spikes_per_sample"] for l in d["layers"]) > 0


def test_synthetic_hard_data_is_the_generators_test_split(capsys, checkpoints, tmp_path):
    """--data synthetic-hard feeds exactly load_dataset("synthetic-hard", "test", ...): the run equals one on
    those frames written to an .npy file."""
    from snnc.data import load_dataset

    x, _ = load_dataset("synthetic-hard", "test", 3, 8, 0)
    np.save(tmp_path / "x.npy", x)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    code, _, err = _snnc(capsys, "simulate", str(checkpoints["asa"]), "--data", "synthetic-hard", "--samples", "3",
                         "--T", "8", "--json", str(a))
    assert code == 0, err
    code, _, err = _snnc(capsys, "simulate", str(checkpoints["asa"]), "--data", str(tmp_path / "x.npy"),
                         "--samples", "3", "--json", str(b))
    assert code == 0, err
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    assert "synthetic-hard" in ra["data"]
    assert [r["spikes_per_sample"] for r in ra["layers"]] == [r["spikes_per_sample"] for r in rb["layers"]]
