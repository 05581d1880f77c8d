"""``snnc inspect MODEL --target loihi2`` and the resource section of the lava compile report."""

from __future__ import annotations

import json
import math

import pytest

from snnc_testing import run_cli, tiny_checkpoint


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt")


def test_inspect_loihi2_json_on_cnn_sinabs(capsys, nir_reference):
    code, out, err = run_cli(capsys, "inspect", "--target", "loihi2", "--json",
                             nir_reference / "02_cnn" / "cnn_sinabs.nir")
    assert code == 0, err
    data = json.loads(out)
    dense = [r for r in data["layers"] if r["synapses"] == "dense"]
    assert [(r["fan_in"], r["neurons"]) for r in dense] == [(128, 256), (256, 10)]  # cnn_sinabs' two Linear layers
    assert [r["weights_stored"] for r in dense] == [128 * 256, 256 * 10]  # dense: every weight stored
    assert data["totals"]["cores"] == sum(r["cores"] for r in data["layers"])
    assert data["totals"]["fits_one_chip"] is True and data["totals"]["chips"] == 1
    assert {lim["status"] for lim in data["limits"]} == {"public", "assumed"}


def test_inspect_loihi2_table_of_a_checkpoint(capsys, tiny):
    code, out, err = run_cli(capsys, "inspect", "--target", "loihi2", tiny)
    assert code == 0, err
    # demo LIF-SNN-3 at widths 2: conv 2 -> 2 on 32x32, fused 4x4/s2 convs, FC 32 -> 4 -> 8
    assert "fits one chip: yes" in out and "conv 4x4/s2" in out and "[assumed]" in out
    code, out, err = run_cli(capsys, "inspect", "--target", "loihi2", "--json", tiny)
    rows = json.loads(out)["layers"]
    assert [r["neurons"] for r in rows] == [2 * 32 * 32, 2 * 16 * 16, 2 * 8 * 8, 4, 8]
    assert [r["synapses"] for r in rows] == ["conv 3x3/s1", "conv 4x4/s2", "conv 4x4/s2", "dense", "dense"]
    assert [r["weights_stored"] for r in rows] == [2 * 9 * 2, 2 * 16 * 2, 2 * 16 * 2, 2 * 8 * 8 * 4, 4 * 8]


def test_inspect_loihi2_bad_input_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"not hdf5")
    for args in (("inspect", "--target", "loihi2", bad), ("inspect", "--target", "loihi3", bad)):
        code, out, err = run_cli(capsys, *args)
        lines = [x for x in err.splitlines() if x]
        assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("snnc: error:"), err


def test_lava_compile_report_has_the_resource_table(capsys, tmp_path, tiny):
    out = tmp_path / "art"
    code, _, err = run_cli(capsys, "compile", tiny, "--target", "lava", "--fixed-point", "--calibrate", "2",
                           "--holdout", "0", "-o", out)
    assert code == 0, err
    res = json.loads((out / "report.json").read_text())["loihi2_resources"]
    layers = {r["name"]: r for r in res["layers"]}
    assert len(layers) == 5 and res["totals"]["cores"] == 5 and res["totals"]["fits_one_chip"] is True
    fc2 = res["layers"][-1]  # 4 -> 8 dense, quantized: bits from the integer weights, at most 8
    assert fc2["neurons"] == 8 and fc2["fan_in"] == 4 and 1 <= fc2["weight_bits"] <= 8
    assert fc2["synapse_bits_per_core"] == 4 * 64 * math.ceil((8 * fc2["weight_bits"] + 10) / 64)
    assert "## Loihi 2 resources" in (out / "report.md").read_text()


def test_cpu_compile_report_has_no_resource_table(capsys, tmp_path, tiny):
    out = tmp_path / "art"
    code, _, err = run_cli(capsys, "compile", tiny, "--target", "cpu", "--calibrate", "2", "--holdout", "0", "-o", out)
    assert code == 0, err
    assert "loihi2_resources" not in json.loads((out / "report.json").read_text())
