"""CPU reference simulator vs the snnc PyTorch model and Norse, LIF-SNN-3 at the paper's size.

    .venv/bin/python bench/run_all.py --only cpu        (or: .venv/bin/python bench/bench_cpu.py)

Setup: LIF-SNN-3 (2×32×32, widths 64/128/128, FC 8192→256→11, T = 60), random weights rescaled
block by block (``snnc.backends.cpu.activity.scale_to_rate``, on one sample) so every layer fires
~10 %; input: 16 synthetic DVS-gesture test samples; batch 16; torch with 2 threads. Timed, interleaved,
median of the repeats: (a) the PyTorch model's forward, (b) ``snnc.backends.cpu.run`` on the model's
graph (exact, NCHW; and channels_last), for ASA and vanilla, (c) Norse 1.1.0 ``from_nir`` on the
standard-NIR vanilla graph (BN folded, each AvgPool2d → SumPool2d with its 1/4 folded into the conv,
r folded into the weights, batch 1: its only working batch size), (d) a dense conv2d ceiling: the
model's conv2 (64→128, 3×3, 32×32) alone, channels_last, on 120 frames.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

PAPER = dict(model="lif-snn-3", T=60, in_channels=2, input_size=[32, 32], num_classes=11, widths=[64, 128, 128],
             fc_hidden=256, reduction=4, dropout=0.0)


def _models(n: int):
    from snnc.backends.cpu.activity import scale_to_rate
    from snnc.data import load_dataset
    from snnc.models import build_model

    x, _ = load_dataset("synthetic", "test", n, PAPER["T"], 0)
    models, rates = {}, {}
    for att in ("asa", "none"):
        torch.manual_seed(0)
        m = build_model(dict(PAPER, attention=att)).eval()
        rates[att] = scale_to_rate(m, torch.as_tensor(x[:1]), target=0.1, iters=14)
        models[att] = m
    return x, models, rates


def norse_graph(vanilla_graph, tmp: Path):
    """The standard-NIR vanilla graph Norse can run (toolchain notes §3): BN folded, AvgPool → SumPool
    with 1/k² folded into the conv before it, r folded into the weights."""
    import nir

    from snnc.compiler.ir.graph_utils import copy_graph, node_kind, predecessors
    from snnc.compiler.ir.serialize import export_standard, write_graph
    from snnc.compiler.passes import fold_batchnorm, fold_lif_r

    g, _ = fold_batchnorm(vanilla_graph)
    g = copy_graph(g)
    pred = predecessors(g)
    for name, node in list(g.nodes.items()):
        if node_kind(node) == "AvgPool2d":
            (conv,) = pred[name]
            c = g.nodes[conv]
            k = float(np.prod(np.asarray(node.kernel_size)))
            c.weight = (np.asarray(c.weight) / k).astype(np.float32)
            c.bias = (np.asarray(c.bias) / k).astype(np.float32)
            g.nodes[name] = nir.SumPool2d(kernel_size=node.kernel_size, stride=node.stride, padding=node.padding)
    g, _ = fold_lif_r(g)
    std, notes = export_standard(g)
    path = tmp / "vanilla_std.nir"
    write_graph(path, std)
    return nir.read(str(path)), notes


def _norse_run(net, x: np.ndarray) -> np.ndarray:
    outs = []
    with torch.no_grad():
        for i in range(len(x)):
            state, seq = None, []
            for t in range(x.shape[1]):
                out, state = net(torch.from_numpy(x[i:i + 1, t]), state)
                seq.append(out.reshape(-1))
            outs.append(torch.stack(seq))
    return torch.stack(outs).numpy()


def _timed(fn, reps: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def section(quick: bool = False) -> str:
    import norse.torch as norse

    from snnc.backends.cpu import run
    from snnc.compiler.analysis.flops import analyze
    from snnc.frontends import model_to_graph

    torch.set_num_threads(2)
    n = 4 if quick else 16
    reps = 1 if quick else 3
    n_norse = 2 if quick else 4
    t0 = time.perf_counter()
    x, models, rates = _models(n)
    print(f"[bench_cpu] models rescaled in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    xt = torch.as_tensor(x)
    graphs = {att: model_to_graph(m) for att, m in models.items()}
    flop = {att: 2 * PAPER["T"] * sum(r.flops for r in analyze(g)) for att, g in graphs.items()}

    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ng, notes = norse_graph(graphs["none"], Path(d))
        net = norse.from_nir(ng)
    dropped = set(ng.nodes) - {k for k, _ in net.named_children()}

    conv = torch.nn.Conv2d(64, 128, 3, padding=1).eval().to(memory_format=torch.channels_last)
    frames = (torch.rand(120, 64, 32, 32) < 0.1).float().contiguous(memory_format=torch.channels_last)

    def dense_conv():
        with torch.no_grad():
            return conv(frames)

    def one_thread(fn):
        def wrapped():
            torch.set_num_threads(1)
            try:
                return fn()
            finally:
                torch.set_num_threads(2)
        return wrapped

    timings: dict[str, list[float]] = {}
    results = {}
    jobs = {
        "torch_asa": lambda: models["asa"].forward_record(xt),
        "torch_asa_1t": one_thread(lambda: models["asa"].forward_record(xt)),
        "sim_asa": lambda: run(graphs["asa"], x),
        "sim_asa_cl": lambda: run(graphs["asa"], x, channels_last=True),
        "torch_none": lambda: models["none"].forward_record(xt),
        "sim_none": lambda: run(graphs["none"], x),
        "sim_none_cl": lambda: run(graphs["none"], x, channels_last=True),
        "norse_none": lambda: _norse_run(net, x[:n_norse]),
        "dense_conv": dense_conv,
    }
    dense_conv()
    with torch.no_grad():
        for _ in range(reps):  # interleaved repeats: load changes hit every job alike
            for name, fn in jobs.items():
                t, out = _timed(fn, 1)
                print(f"[bench_cpu] {name}: {t:.2f} s", file=sys.stderr, flush=True)
                timings.setdefault(name, []).append(t)
                results[name] = out
    med = {k: statistics.median(v) for k, v in timings.items()}
    per_sample = {k: v / (n_norse if k == "norse_none" else (1 if k == "dense_conv" else n)) for k, v in med.items()}
    dense_gflops = 2 * 120 * 75_497_472 / med["dense_conv"] / 1e9

    exact = {}
    for att in ("asa", "none"):
        rec = models[att].spiking_layers(results[f"torch_{att}"])
        for mode, key in (("exact", f"sim_{att}"), ("channels_last", f"sim_{att}_cl")):
            res = results[key]
            exact[(att, mode)] = all(np.array_equal(res.spikes[f"{k}_lif"], v.numpy()) for k, v in rec.items())
    results.pop("torch_asa_1t", None)
    ref_out = results["torch_none"]["b4"][:n_norse].numpy()
    norse_agree = float(np.mean(results["norse_none"] == ref_out))

    def row(label, key, att):
        s = per_sample[key]
        return f"| {label} | {s:.3f} | {1 / s:.2f} | {flop[att] / s / 1e9:.1f} |"

    lines = [
        "## CPU reference simulator (LIF-SNN-3, paper size)",
        "",
        __doc__.split("\n\n", 2)[2].strip(),
        "",
        f"Samples: {n} (Norse: {n_norse}, batch 1), T = {PAPER['T']}, input non-zero ratio {float((x != 0).mean()):.4f}; "
        f"repeats {reps} (median). Dense cost: {flop['asa'] / 1e9:.2f} GFLOP per sample (2 × Table S2 MACs × T; "
        "ASA adds < 0.1 %).",
        "",
        "Firing rates after rescaling (one sample): "
        + "; ".join(f"{att}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()) for att, r in rates.items()),
        "",
        "| implementation | s / sample | samples / s | achieved GFLOP/s (dense-equivalent) |",
        "|---|---|---|---|",
        row("PyTorch model forward, ASA, batch 16", "torch_asa", "asa"),
        row("PyTorch model forward, ASA, batch 16, 1 thread", "torch_asa_1t", "asa"),
        row("snnc cpu simulator, ASA, exact (NCHW)", "sim_asa", "asa"),
        row("snnc cpu simulator, ASA, channels_last", "sim_asa_cl", "asa"),
        row("PyTorch model forward, vanilla", "torch_none", "none"),
        row("snnc cpu simulator, vanilla, exact (NCHW)", "sim_none", "none"),
        row("snnc cpu simulator, vanilla, channels_last", "sim_none_cl", "none"),
        row("Norse 1.1.0 from_nir, vanilla standard NIR, batch 1", "norse_none", "none"),
        f"| dense ceiling: conv2 alone, channels_last, 120 frames | — | — | {dense_gflops:.1f} |",
        "",
        "Ratios (same run):",
        "",
        f"- simulator vs PyTorch forward (ASA): {per_sample['torch_asa'] / per_sample['sim_asa']:.2f}× (exact), "
        f"{per_sample['torch_asa'] / per_sample['sim_asa_cl']:.2f}× (channels_last); target ≥ 1×; against the "
        f"model forward on 1 thread: {per_sample['torch_asa_1t'] / per_sample['sim_asa']:.2f}× (exact)",
        f"- simulator vs PyTorch forward (vanilla): {per_sample['torch_none'] / per_sample['sim_none']:.2f}× (exact), "
        f"{per_sample['torch_none'] / per_sample['sim_none_cl']:.2f}× (channels_last)",
        f"- simulator (vanilla) vs Norse: {per_sample['norse_none'] / per_sample['sim_none']:.2f}× (exact), "
        f"{per_sample['norse_none'] / per_sample['sim_none_cl']:.2f}× (channels_last); target ≥ 5×",
        f"- simulator (vanilla, channels_last) at {100 * flop['none'] / per_sample['sim_none_cl'] / 1e9 / dense_gflops:.0f} % "
        "of the dense conv ceiling",
        "",
        "Correctness in the same run: simulator spikes equal the PyTorch model's in every layer: "
        + ", ".join(f"{att}/{mode}: {'yes' if ok else 'NO'}" for (att, mode), ok in exact.items())
        + f". Norse output spikes agree with the PyTorch model at {100 * norse_agree:.4f} % of (step, neuron) "
        f"entries (Norse fires at v > θ, the model at v ≥ θ; float rounding of the folded weights); Norse dropped "
        f"nodes: {sorted(dropped) or 'none'}; export notes: {notes or 'none'}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(section())
