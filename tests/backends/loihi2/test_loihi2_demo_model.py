"""The demo ASA LIF-SNN-3 compiled with ``snnc compile --target loihi2`` runs on Lava's
``Loihi2SimCfg(select_tag="fixed_pt")`` with stock ``lava.proc`` processes only, spike-identical in every
layer to snnc's CPU fixed-point simulator.

Oracle: the CPU simulator (the specification, design.md §5) on the artifact's own ``graph.nir``. The
weights are seeded and rescaled so every layer fires (``scale_to_rate``), as in the Lava demo test. The
process classes are those Lava's compiler discovers from the source by its own graph walk
(``lava.magma.compiler.compiler_graphs.find_processes``).
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.lava

STOCK = {"lava.proc.conv.process.Conv", "lava.proc.dense.process.Dense", "lava.proc.lif.process.LIF",
         "lava.proc.lif.process.LIFReset", "lava.proc.io.source.RingBuffer", "lava.proc.io.extractor.Extractor"}


@pytest.fixture(scope="module")
def demo_artifact(tmp_path_factory):
    """(artifact directory of ``snnc compile demo.pt --target loihi2``, its stdout, 2 test samples)."""
    import contextlib
    import io

    import torch

    from snnc.cli import main
    from snnc.data import load_dataset
    from snnc.models import build_model, demo_config
    from snnc.models.activity import scale_to_rate
    from snnc.models.checkpoint import save_checkpoint

    cfg = demo_config("asa")
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    calib, _ = load_dataset("synthetic", "train", 8, cfg["T"], 0)
    scale_to_rate(model, torch.as_tensor(calib))
    d = tmp_path_factory.mktemp("loihi2")
    save_checkpoint(d / "demo.pt", model, hparams={}, train_meta={})
    art, out = d / "art", io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            main(["compile", str(d / "demo.pt"), "--target", "loihi2", "--calibrate", "8", "--holdout", "0",
                  "-o", str(art)])
        except SystemExit as e:
            code = int(e.code or 0)
    assert code == 0, out.getvalue()
    x, _ = load_dataset("synthetic", "test", 2, cfg["T"], 1)
    return art, out.getvalue(), x


def test_demo_on_loihi2_stock_processes_equals_cpu(demo_artifact):
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.loihi2 import run_artifact
    from snnc.compiler.ir.serialize import read_graph

    art, out, x = demo_artifact
    assert "stock Lava processes only" in out and (art / "loihi2" / "spec.json").exists()
    graph = read_graph(art / "graph.nir")
    kinds = {type(n).__name__ for n in graph.nodes.values()}
    assert "TimeGain" not in kinds and "LoihiLIF" in kinds  # attention folded into the weights, fixed point
    got = run_artifact(art, x)
    classes = set(got.extras["process_classes"])
    assert all(c.startswith("lava.proc.") for c in classes), classes
    assert classes <= STOCK and {"lava.proc.lif.process.LIFReset", "lava.proc.conv.process.Conv",
                                 "lava.proc.dense.process.Dense"} <= classes
    assert got.extras["processes"] == 1 + 3 + 2 + 2 * 5  # source, 3 Conv, 2 Dense, 5 LIFReset + 5 Extractors
    ref = cpu_run(graph, x, timing="snnc")
    pipe = cpu_run(graph, x, timing="lava", readout="pipeline")
    assert set(got.spikes) == set(ref.spikes) == {f"b{i}_lif" for i in range(5)}
    for name in ref.spikes:
        assert ref.spikes[name].sum() > 0, f"{name} is silent: the test would prove nothing"
        np.testing.assert_array_equal(got.spikes[name], ref.spikes[name], err_msg=name)
        np.testing.assert_array_equal(got.spikes[name], pipe.spikes[name], err_msg=name)
    np.testing.assert_array_equal(got.output, pipe.output)
    # the readout: raw output stream of window m over steps m·T + D … m·T + D + T − 1
    D, T = got.extras["D"], x.shape[1]
    raw = got.extras["raw_spikes"]["b4_lif"]
    assert D == 5 and raw.shape[0] == 2 * T + D
    np.testing.assert_array_equal(np.stack([raw[m * T + D:m * T + D + T] for m in range(2)]), ref.spikes["b4_lif"])


def _walk(start) -> list:
    """Every process connected to ``start`` through its ports (breadth-first, both directions)."""
    seen, todo = {id(start): start}, [start]
    while todo:
        proc = todo.pop()
        for port in proc.in_ports.members + proc.out_ports.members:
            for other in port.get_src_ports() + port.get_dst_ports():
                if id(other.process) not in seen:
                    seen[id(other.process)] = other.process
                    todo.append(other.process)
    return list(seen.values())


def test_built_process_graph_has_stock_lava_classes_only(demo_artifact):
    """The network built from the artifact's spec, walked here over its ports (independent of the runner)."""
    from snnc.backends.lava.layout import frames_to_lava
    from snnc.backends.loihi2.artifact import read_spec
    from snnc.backends.loihi2.emit import build

    art, _, x = demo_artifact
    spec = read_spec(art)
    net = build(spec, frames_to_lava(x[0]), x.shape[1], window="reset")
    procs = _walk(net.source)
    assert len(procs) == 1 + len(spec["layers"]) + 5  # source, every layer, one Extractor per population
    for proc in procs:
        assert type(proc).__module__.startswith("lava.proc."), type(proc)
        assert f"{type(proc).__module__}.{type(proc).__qualname__}" in STOCK, type(proc)


def test_demo_on_loihi2_padded_windows_with_var_set_equal_cpu_lava_timing(demo_artifact):
    from snnc.backends.cpu import run as cpu_run
    from snnc.backends.loihi2 import run_artifact
    from snnc.compiler.ir.serialize import read_graph

    art, _, x = demo_artifact
    got = run_artifact(art, x, window="pad")
    classes = set(got.extras["process_classes"])
    assert classes <= STOCK and "lava.proc.lif.process.LIF" in classes
    assert "lava.proc.lif.process.LIFReset" not in classes
    D = got.extras["D"]
    padded = np.concatenate([x, np.zeros((x.shape[0], D) + x.shape[2:], x.dtype)], axis=1)
    ref = cpu_run(read_graph(art / "graph.nir"), padded, timing="lava")
    for name in ref.spikes:
        assert ref.spikes[name][1].sum() > 0, f"{name} is silent in window 2: the reset would prove nothing"
        np.testing.assert_array_equal(got.spikes[name], ref.spikes[name], err_msg=name)
    assert got.extras["reset_seconds_per_sample"] > 0  # measured: the Var.set resets before window 2


def test_regress_backend_loihi2_reproduces_the_cpu_golden_counts(demo_artifact, capsys, tmp_path):
    """``snnc regress --backend loihi2``: Lava's stock processes reproduce a golden file the CPU simulator wrote,
    under both timings; Lava timing's unshifted readout (which LIFReset windows cannot give) exits 2."""
    import json

    from snnc_testing import run_cli

    art, _, _ = demo_artifact
    for timing in ("lava", "snnc"):
        golden = tmp_path / f"{timing}.json"
        code, _, err = run_cli(capsys, "regress", art, "--golden", golden, "--update", "--timing", timing,
                               "--samples", 2)
        assert code == 0, err
        recorded = json.loads(golden.read_text())
        assert recorded["backend"] == "cpu" and recorded["numerics"] == "fixed"
        assert all(layer["total"] > 0 for layer in recorded["layers"].values())
        code, out, err = run_cli(capsys, "regress", art, "--golden", golden, "--backend", "loihi2")
        assert code == 0, err
        assert "comparing the 'loihi2' run against it" in err and "backend loihi2" in out
    code, out, err = run_cli(capsys, "regress", art, "--golden", tmp_path / "lava.json", "--backend", "loihi2",
                             "--readout", "unshifted")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "loihi2 backend reads the pipeline only" in err
