"""``snnc inspect`` and ``snnc export``: tables, JSON, standard NIR output, and one-line errors on
bad input (non-zero exit, file and problem named, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import nir
import numpy as np
import pytest
import torch

from snnc.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


class Custom:
    """Not a tensor: torch.load(weights_only=True) must refuse it."""

    def __init__(self) -> None:
        self.x = 1


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from snnc.models import build_model, demo_config
    from snnc.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model({**demo_config("asa"), "T": 4, "widths": [4, 8, 8], "fc_hidden": 16}).eval()
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    save_checkpoint(path, model, hparams={}, train_meta={})
    return path


def test_inspect_cnn_sinabs_table(capsys, nir_reference):
    code, out, _ = run(capsys, "inspect", str(nir_reference / "02_cnn" / "cnn_sinabs.nir"))
    assert code == 0
    assert "13 compute nodes" in out and "2×34×34 → 16×16×16" in out and "256 → 10" in out
    assert "Table S2" in out


def test_inspect_json_matches_the_table_data(capsys, nir_reference):
    code, out, _ = run(capsys, "inspect", "--json", str(nir_reference / "02_cnn" / "cnn_sinabs.nir"))
    data = json.loads(out)
    compute = [r for r in data["nodes"] if r["kind"] not in ("Input", "Output")]
    assert code == 0 and len(compute) == data["totals"]["compute_nodes"] == 13
    conv0 = next(r for r in data["nodes"] if r["name"] == "0")
    assert conv0["input_shape"] == [2, 34, 34] and conv0["output_shape"] == [16, 16, 16]
    assert conv0["flops"] == 5 * 5 * 16 * 16 * 2 * 16  # k²·h·w·c_in·c_out at the conv output map
    assert data["nodes"][-1]["input_shape"] == [10]


def test_inspect_checkpoint_shows_snnc_names(capsys, checkpoint):
    code, out, _ = run(capsys, "inspect", "--json", str(checkpoint))
    data = json.loads(out)
    names = [r["name"] for r in data["nodes"]]
    assert code == 0 and names[:5] == ["input", "b0_conv", "b0_bn", "b0_attn", "b0_lif"]
    assert data["metadata"]["snnc"]["threshold"] == ">=" and data["metadata"]["snnc"]["model"]["T"] == 4
    lif_neurons = sum(r["neurons"] for r in data["nodes"])
    assert lif_neurons == 4 * 32 * 32 + 8 * 16 * 16 + 8 * 8 * 8 + 16 + 8


def test_export_writes_nir_that_stock_nir_reads(capsys, checkpoint, tmp_path):
    out_path = tmp_path / "model.nir"
    code, out, err = run(capsys, "export", str(checkpoint), "-o", str(out_path))
    assert code == 0 and "wrote" in out and err.count("no standard form") == 3  # three ASA nodes
    g = nir.read(str(out_path))
    kinds = {type(n).__name__ for n in g.nodes.values()}
    assert "BatchNorm" not in str(g.nodes) and {"Conv2d", "LIF", "AvgPool2d", "Flatten", "Affine"} <= kinds
    from snnc.frontends import load_graph

    back = load_graph(out_path)  # snnc restores the ASA nodes; BN is folded
    assert type(back.nodes["b0_attn"]).__name__ == "ASA" and "b0_bn" not in back.nodes


def test_export_strict_refuses_and_writes_nothing(capsys, checkpoint, tmp_path):
    out_path = tmp_path / "strict.nir"
    code, out, err = run(capsys, "export", str(checkpoint), "-o", str(out_path), "--strict")
    assert code != 0 and "b0_attn" in err and "no standard NIR form" in err
    assert err.strip().count("\n") == 0 and not out_path.exists() and list(tmp_path.iterdir()) == []


def test_export_vanilla_is_standard_only(capsys, tmp_path):
    from snnc.models import build_model, demo_config
    from snnc.models.checkpoint import save_checkpoint

    model = build_model({**demo_config("none"), "T": 4, "widths": [4, 8, 8], "fc_hidden": 16}).eval()
    save_checkpoint(tmp_path / "v.pt", model, hparams={}, train_meta={})
    code, out, err = run(capsys, "export", str(tmp_path / "v.pt"), "-o", str(tmp_path / "v.nir"), "--strict")
    assert code == 0 and "standard NIR only" in out
    stock = nir.read(str(tmp_path / "v.nir"))
    assert all(not n.metadata.get("snnc_ext") for n in stock.nodes.values())


def _bad_inputs(tmp_path, checkpoint, rng):
    files = {}
    data = checkpoint.read_bytes()
    files["truncated.pt"] = data[: len(data) // 2]
    files["random.pt"] = b"\x80" + rng.bytes(500)
    p = tmp_path / "custom.pt"
    torch.save({"obj": Custom()}, p)
    files["custom.pt"] = p.read_bytes()
    ckpt = torch.load(checkpoint, weights_only=True)
    ckpt["config"]["model"] = "lif-snn-99"
    torch.save(ckpt, tmp_path / "unknown_model.pt")
    files["unknown_model.pt"] = (tmp_path / "unknown_model.pt").read_bytes()
    g_path = tmp_path / "good.nir"
    from snnc.compiler.ir import write_graph
    from snnc.frontends import load_graph

    write_graph(g_path, load_graph(checkpoint))
    with h5py.File(g_path, "a") as f:
        del f["node/nodes/b3_lif/type"]
        f["node/nodes/b3_lif"].create_dataset("type", data="Mystery", dtype=h5py.string_dtype())
    files["unknown_type.nir"] = g_path.read_bytes()
    write_graph(g_path, load_graph(checkpoint))
    with h5py.File(g_path, "a") as f:
        del f["node/nodes/b4_fc/weight"]
        f["node/nodes/b4_fc"].create_dataset("weight", data=np.zeros((8, 7), np.float32))
    files["mismatch.nir"] = g_path.read_bytes()
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.create_dataset("x", data=np.arange(4))
    files["plain.nir"] = (tmp_path / "plain.h5").read_bytes()
    for p in tmp_path.iterdir():
        p.unlink()
    return files


PROBLEMS = {
    "truncated.pt": "not a valid or complete torch checkpoint",
    "random.pt": "not a valid torch checkpoint",
    "custom.pt": "refusing to load",
    "unknown_model.pt": "unknown model",
    "unknown_type.nir": "node 'b3_lif' has unknown node type 'Mystery'",
    "mismatch.nir": "b4_fc",
    "plain.nir": "HDF5 file is not a NIR graph",
}


def test_bad_inputs_give_one_line_errors_and_write_nothing(capsys, checkpoint, tmp_path, rng):
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    files = _bad_inputs(bad_dir, checkpoint, rng)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, content in files.items():
        path = bad_dir / name
        path.write_bytes(content)
        for args in (["inspect", str(path)], ["export", str(path), "-o", str(out_dir / "x.nir")]):
            code, out, err = run(capsys, *args)
            assert code != 0, (name, args)
            assert out == "", (name, out)
            line = err.strip()
            assert line.count("\n") == 0 and "Traceback" not in line, (name, err)
            assert line.startswith("snnc: error: ") and str(path) in line and PROBLEMS[name] in line, (name, line)
        assert list(out_dir.iterdir()) == [], name


def test_cli_subprocess_exit_code(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 broken zip")
    r = subprocess.run([sys.executable, "-m", "snnc.cli", "inspect", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == "" and r.stderr.strip().count("\n") == 0 and str(bad) in r.stderr
