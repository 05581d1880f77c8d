"""CPU reference simulator vs the snnc PyTorch model and Norse, LIF-SNN-3 at the paper's size.

    .venv/bin/python bench/run_all.py --only cpu        (or: .venv/bin/python bench/bench_cpu.py)

Setup: LIF-SNN-3 (2×32×32, widths 64/128/128, FC 8192→256→11, T = 60), random weights rescaled
block by block (``snnc.models.activity.scale_to_rate``, on one sample) so every layer fires
~10 %; input: 16 synthetic DVS-gesture test samples; batch 16; torch with 2 threads. Timed, interleaved,
median of the repeats: (a) the PyTorch model's forward, (b) ``snnc.backends.cpu.run`` on the model's own
graph (uncompiled: exact, NCHW; and channels_last), for ASA and vanilla, (c) ``run`` on the **compiled**
graphs that ``snnc compile --target cpu`` deploys: BN folded and each conv + 2×2 avg-pool fused into one
4×4 stride-2 conv (``fold_batchnorm, fuse_pooling``; 2.25× fewer FLOPs in layers 2–3), with exact ASA
(``--asa-mode exact``) and with ASA replaced by calibrated time gains (the default ``fused`` mode,
calibrated on 8 synthetic training samples); these are not bit-exact (reassociated sums), so the
fraction of (sample, step, neuron) spikes that differ from the PyTorch model is reported, (d) Norse 1.1.0
``from_nir`` on the standard-NIR vanilla graph (BN folded, each AvgPool2d → SumPool2d with its 1/4 folded
into the conv, r folded into the weights) and on the same graph with pooling fused into the conv, batch 1
(its only working batch size); the simulator is also timed at batch 1 on the same samples, so the Norse
ratios are per-sample throughput at equal batch size as well as at the simulator's batch 16, (e) a dense
conv2d ceiling measured in the same run: the model's conv2 (64→128, 3×3, 32×32) alone, channels_last, on
120 frames. "dense-equivalent" GFLOP/s divides the uncompiled model's FLOPs by the time; "executed"
divides the FLOPs of the graph that actually ran (compiled graphs do fewer). (f) the same compiled graphs
with the **event-driven convolution** (``run(..., conv="auto")``, backends/cpu/event_conv.py: a conv with
fan-in ≥ 64 and ≤ 30 % non-zero inputs — here conv2 and conv3 — adds only the weights of its non-zero inputs;
float sums in another order than ``F.conv2d``; conv1, fan-in 18, stays dense), at batch 16 and batch 1, and a per-layer table: the compiled graph's convs alone on 60 frames (one sample) of
Bernoulli(0.1) spikes (conv1: event counts at the input's density), dense ``F.conv2d`` (NCHW, as the
simulator calls it) vs the event kernel, on 1 and 2 threads. (g) Every simulator row runs its float LIF
populations with the **fused C++ neuron loop** (backends/cpu/lif_loop.py: all T steps of a layer in one call,
bit-identical to the per-step torch loop); the rows marked "torch neuron loop" run the old per-step loop
(``lif_loop.disabled()``) on the same graph for comparison.
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

from snnc.backends.cpu import run as cpu_run

PAPER = dict(model="lif-snn-3", T=60, in_channels=2, input_size=[32, 32], num_classes=11, widths=[64, 128, 128],
             fc_hidden=256, reduction=4, dropout=0.0)


def _models(n: int):
    from snnc.models.activity import scale_to_rate
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
    """The standard-NIR vanilla graph Norse 1.1.0 can run (its ``from_nir`` removes nodes it
    has no module for, e.g. AvgPool2d, and ignores r; docs/interop.md): BN folded, AvgPool → SumPool
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


def compiled_graphs(graph, calibration: np.ndarray | None):
    """The graph ``snnc compile --target cpu`` deploys: ``--asa-mode exact`` and (if ``calibration``) fused."""
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import run_pipeline, select_passes

    exact, _ = run_pipeline(graph, select_passes("cpu", asa_mode="exact"))
    fused = None
    if calibration is not None:
        fused, _ = run_pipeline(graph, select_passes("cpu"), context=PipelineContext(run=cpu_run, calibration=calibration))
    return exact, fused


def differing(res, rec: dict) -> tuple[float, int]:
    """Fraction of spike entries (all spiking layers) that differ from the model's, and the count."""
    diff = total = 0
    for k, v in rec.items():
        a, b = res.spikes[f"{k}_lif"], v.numpy()
        diff += int(np.count_nonzero(a != b))
        total += a.size
    return diff / total, diff


def _pct(frac_count: tuple[float, int]) -> str:
    return f"{100 * frac_count[0]:.5f} % ({frac_count[1]} entries)"


def _batch1(fn, x: np.ndarray):
    """fn run on one sample at a time (batch 1), for the per-sample comparison with Norse."""
    return lambda: [fn(x[i:i + 1]) for i in range(len(x))]


def layer_table(graph, x: np.ndarray, reps: int) -> list[str]:
    """Per-layer microbenchmark: each conv of ``graph`` on 60 frames, dense F.conv2d vs the event kernel."""
    import torch.nn.functional as F

    from snnc.backends.cpu.event_conv import EventConv2d
    from snnc.compiler.ir.graph_utils import node_kind
    from snnc.compiler.ir.shapes import infer_shapes, pair, shape_of

    g = infer_shapes(graph)
    gen = torch.Generator().manual_seed(0)
    rows = ["| layer | input [C, H, W] | kernel, stride | input density | dense, 1 thread (ms) | event, 1 thread (ms) | "
            "speed-up | dense, 2 threads (ms) | event, 2 threads (ms) | speed-up | max abs diff |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, node in g.nodes.items():
        if node_kind(node) != "Conv2d":
            continue
        src = next(a for a, b in g.edges if b == name)
        c, h, w = (int(v) for v in shape_of(g, src, "output"))
        if src == "input":
            frames = torch.as_tensor(x[0], dtype=torch.float32)
        else:
            frames = (torch.rand(PAPER["T"], c, h, w, generator=gen) < 0.1).float()
        wt = torch.as_tensor(np.asarray(node.weight), dtype=torch.float32)
        b = torch.as_tensor(np.asarray(node.bias), dtype=torch.float32)
        stride, pad, dil, groups = pair(node.stride), pair(node.padding), pair(node.dilation), int(np.asarray(node.groups))
        ev = EventConv2d(wt, b, stride, pad, dil, groups)
        dense_fn = lambda: F.conv2d(frames, wt, b, stride, pad, dil, groups)  # noqa: E731
        event_fn = lambda: ev(frames)  # noqa: E731
        cells = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            dense_fn(), event_fn()
            td = min(_timed(dense_fn, 1)[0] for _ in range(max(5, 3 * reps)))
            te = min(_timed(event_fn, 1)[0] for _ in range(max(5, 3 * reps)))
            cells.append(f"{1e3 * td:.2f} | {1e3 * te:.2f} | {td / te:.2f}×")
        torch.set_num_threads(2)
        diff = float((dense_fn() - event_fn()).abs().max())
        rows.append(f"| {name} | {c}×{h}×{w} | {wt.shape[2]}×{wt.shape[3]}, {stride[0]} | "
                    f"{float((frames != 0).float().mean()):.3f} | {' | '.join(cells)} | {diff:.1e} |")
    return rows


def section(quick: bool = False) -> str:
    import norse.torch as norse

    from snnc.backends.cpu import run
    from snnc.compiler.analysis.flops import analyze
    from snnc.data import load_dataset
    from snnc.frontends import model_to_graph

    from snnc.backends.cpu import lif_loop
    from snnc.backends.cpu.event_conv import extension

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    if extension() is None:
        raise RuntimeError("the event-driven conv extension did not build (see the warning above)")
    ext_seconds = time.perf_counter() - t0
    print(f"[bench_cpu] event-conv extension ready in {ext_seconds:.1f} s", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    if lif_loop.extension() is None:
        raise RuntimeError("the fused neuron loop extension did not build (see the warning above)")
    lif_seconds = time.perf_counter() - t0
    print(f"[bench_cpu] fused neuron loop ready in {lif_seconds:.1f} s", file=sys.stderr, flush=True)
    n = 4 if quick else 16
    reps = 1 if quick else 3
    n_norse = 2 if quick else 4
    t0 = time.perf_counter()
    x, models, rates = _models(n)
    print(f"[bench_cpu] models rescaled in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    xt = torch.as_tensor(x)
    graphs = {att: model_to_graph(m) for att, m in models.items()}
    xcal, _ = load_dataset("synthetic", "train", 2 if quick else 8, PAPER["T"], 1)
    t0 = time.perf_counter()
    graphs["asa_cx"], graphs["asa_cf"] = compiled_graphs(graphs["asa"], xcal)
    graphs["none_c"], _ = compiled_graphs(graphs["none"], None)
    print(f"[bench_cpu] compiled in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    flops = {k: 2 * PAPER["T"] * sum(r.flops for r in analyze(g)) for k, g in graphs.items()}
    dense = {"asa": flops["asa"], "none": flops["none"]}

    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ng, notes = norse_graph(graphs["none"], Path(d))
        net = norse.from_nir(ng)
        ngf, notes_f = norse_graph(graphs["none_c"], Path(d))
        net_f = norse.from_nir(ngf)
    dropped = set(ng.nodes) - {k for k, _ in net.named_children()}
    dropped |= set(ngf.nodes) - {k for k, _ in net_f.named_children()}

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

    def torch_loop(fn):
        def wrapped():
            with lif_loop.disabled():
                return fn()
        return wrapped

    timings: dict[str, list[float]] = {}
    results = {}
    xn = x[:n_norse]
    jobs = {
        "torch_asa": lambda: models["asa"].forward_record(xt),
        "torch_asa_1t": one_thread(lambda: models["asa"].forward_record(xt)),
        "sim_asa": lambda: run(graphs["asa"], x),
        "sim_asa_cl": lambda: run(graphs["asa"], x, channels_last=True),
        "sim_asa_cx": lambda: run(graphs["asa_cx"], x),
        "sim_asa_cf": lambda: run(graphs["asa_cf"], x),
        "torch_none": lambda: models["none"].forward_record(xt),
        "sim_none": lambda: run(graphs["none"], x),
        "sim_none_cl": lambda: run(graphs["none"], x, channels_last=True),
        "sim_none_c": lambda: run(graphs["none_c"], x),
        "sim_none_c_b1": _batch1(lambda xi: run(graphs["none_c"], xi), xn),
        "sim_asa_cxe": lambda: run(graphs["asa_cx"], x, conv="auto"),
        "sim_asa_cfe": lambda: run(graphs["asa_cf"], x, conv="auto"),
        "sim_none_ce": lambda: run(graphs["none_c"], x, conv="auto"),
        "sim_none_ce_b1": _batch1(lambda xi: run(graphs["none_c"], xi, conv="auto"), xn),
        "sim_none_ce_tl": torch_loop(lambda: run(graphs["none_c"], x, conv="auto")),
        "sim_none_ce_b1_tl": torch_loop(_batch1(lambda xi: run(graphs["none_c"], xi, conv="auto"), xn)),
        "norse_none": lambda: _norse_run(net, xn),
        "norse_none_c": lambda: _norse_run(net_f, xn),
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
    small = ("norse_none", "norse_none_c", "sim_none_c_b1", "sim_none_ce_b1", "sim_none_ce_b1_tl")
    per_sample = {k: v / (n_norse if k in small else (1 if k == "dense_conv" else n)) for k, v in med.items()}
    dense_gflops = 2 * 120 * 75_497_472 / med["dense_conv"] / 1e9

    exact, agree = {}, {}
    for att in ("asa", "none"):
        rec = models[att].spiking_layers(results[f"torch_{att}"])
        for mode, key in (("exact", f"sim_{att}"), ("channels_last", f"sim_{att}_cl")):
            res = results[key]
            exact[(att, mode)] = all(np.array_equal(res.spikes[f"{k}_lif"], v.numpy()) for k, v in rec.items())
        for key in ("cx", "cf", "cxe", "cfe") if att == "asa" else ("c", "ce"):
            agree[f"{att}_{key}"] = differing(results[f"sim_{att}_{key}"], rec)
    event_vs_dense = {}
    for ev_key, dense_key in (("sim_none_ce", "sim_none_c"), ("sim_asa_cfe", "sim_asa_cf"), ("sim_asa_cxe", "sim_asa_cx")):
        a, b = results[ev_key], results[dense_key]
        d = sum(int(np.count_nonzero(a.spikes[k] != b.spikes[k])) for k in b.spikes)
        event_vs_dense[ev_key] = (d / sum(v.size for v in b.spikes.values()), d)
    loop_same = all(np.array_equal(results["sim_none_ce"].spikes[k].view(np.int32),
                                   results["sim_none_ce_tl"].spikes[k].view(np.int32)) for k in results["sim_none_ce"].spikes)
    loop_same_b1 = all(np.array_equal(a.spikes[k], b.spikes[k]) for a, b in
                       zip(results["sim_none_ce_b1"], results["sim_none_ce_b1_tl"]) for k in a.spikes)
    ev_b1_same = all(np.array_equal(r.output, results["sim_none_ce"].output[i:i + 1])
                     for i, r in enumerate(results["sim_none_ce_b1"]))
    t0 = time.perf_counter()
    layers = layer_table(graphs["none_c"], x, reps)
    print(f"[bench_cpu] layer table in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    results.pop("torch_asa_1t", None)
    ref_out = results["torch_none"]["b4"][:n_norse].numpy()
    norse_agree = float(np.mean(results["norse_none"] == ref_out))
    norse_f_agree = float(np.mean(results["norse_none_c"] == ref_out))
    b1_same = all(np.array_equal(r.output, results["sim_none_c"].output[i:i + 1])
                  for i, r in enumerate(results["sim_none_c_b1"]))

    def row(label, key, att, graph=None):
        s = per_sample[key]
        executed = flops[graph or att] / s / 1e9
        return f"| {label} | {s:.3f} | {1 / s:.2f} | {dense[att] / s / 1e9:.1f} | {executed:.1f} |"

    def ratio(a, b):
        return per_sample[a] / per_sample[b]

    def pct(key):
        frac, cnt = agree[key]
        return f"{100 * frac:.4f} % ({cnt} entries)"

    lines = [
        "## CPU reference simulator (LIF-SNN-3, paper size)",
        "",
        __doc__.split("\n\n", 2)[2].strip(),
        "",
        f"Samples: {n} (Norse and batch-1 simulator: {n_norse}), T = {PAPER['T']}, input non-zero ratio "
        f"{float((x != 0).mean()):.4f}; repeats {reps} (median). Dense cost: {flops['asa'] / 1e9:.2f} GFLOP per "
        f"sample uncompiled (2 × Table S2 MACs × T; ASA adds < 0.1 %), {flops['asa_cx'] / 1e9:.2f} GFLOP "
        "compiled (pooling fused into the convs).",
        "",
        "Firing rates after rescaling (one sample): "
        + "; ".join(f"{att}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()) for att, r in rates.items()),
        "",
        "| implementation | s / sample | samples / s | GFLOP/s (dense-equivalent) | GFLOP/s (executed) |",
        "|---|---|---|---|---|",
        row(f"PyTorch model forward, ASA, batch {n}", "torch_asa", "asa"),
        row(f"PyTorch model forward, ASA, batch {n}, 1 thread", "torch_asa_1t", "asa"),
        row("snnc cpu simulator, ASA, uncompiled graph, exact (NCHW)", "sim_asa", "asa"),
        row("snnc cpu simulator, ASA, uncompiled graph, channels_last", "sim_asa_cl", "asa"),
        row("snnc cpu simulator, ASA, compiled graph, exact ASA", "sim_asa_cx", "asa", "asa_cx"),
        row("snnc cpu simulator, ASA, compiled graph, fused ASA gains", "sim_asa_cf", "asa", "asa_cf"),
        row(f"PyTorch model forward, vanilla, batch {n}", "torch_none", "none"),
        row("snnc cpu simulator, vanilla, uncompiled graph, exact (NCHW)", "sim_none", "none"),
        row("snnc cpu simulator, vanilla, uncompiled graph, channels_last", "sim_none_cl", "none"),
        row("snnc cpu simulator, vanilla, compiled graph", "sim_none_c", "none", "none_c"),
        row("snnc cpu simulator, vanilla, compiled graph, batch 1", "sim_none_c_b1", "none", "none_c"),
        row("snnc cpu simulator, ASA, compiled graph, exact ASA, event-driven conv", "sim_asa_cxe", "asa", "asa_cx"),
        row("snnc cpu simulator, ASA, compiled graph, fused ASA gains, event-driven conv", "sim_asa_cfe", "asa", "asa_cf"),
        row("snnc cpu simulator, vanilla, compiled graph, event-driven conv", "sim_none_ce", "none", "none_c"),
        row("snnc cpu simulator, vanilla, compiled graph, event-driven conv, batch 1", "sim_none_ce_b1", "none", "none_c"),
        row("snnc cpu simulator, vanilla, compiled graph, event-driven conv, torch neuron loop", "sim_none_ce_tl", "none",
            "none_c"),
        row("snnc cpu simulator, vanilla, compiled graph, event-driven conv, torch neuron loop, batch 1",
            "sim_none_ce_b1_tl", "none", "none_c"),
        row("Norse 1.1.0 from_nir, vanilla standard NIR (SumPool), batch 1", "norse_none", "none"),
        row("Norse 1.1.0 from_nir, vanilla standard NIR, pooling fused, batch 1", "norse_none_c", "none", "none_c"),
        f"| dense ceiling: conv2 alone, channels_last, 120 frames | — | — | {dense_gflops:.1f} | {dense_gflops:.1f} |",
        "",
        "Ratios (same run; s / sample of the other ÷ s / sample of the simulator):",
        "",
        f"- simulator vs PyTorch forward (ASA): uncompiled {ratio('torch_asa', 'sim_asa'):.2f}× (exact), "
        f"{ratio('torch_asa', 'sim_asa_cl'):.2f}× (channels_last); compiled {ratio('torch_asa', 'sim_asa_cx'):.2f}× "
        f"(exact ASA), {ratio('torch_asa', 'sim_asa_cf'):.2f}× (fused gains); target ≥ 1×",
        f"- simulator vs PyTorch forward (vanilla): uncompiled {ratio('torch_none', 'sim_none'):.2f}× (exact), "
        f"{ratio('torch_none', 'sim_none_cl'):.2f}× (channels_last); compiled {ratio('torch_none', 'sim_none_c'):.2f}×",
        f"- simulator (vanilla) vs Norse on the standard graph (SumPool), per sample: uncompiled exact at batch {n} "
        f"{ratio('norse_none', 'sim_none'):.2f}×; compiled at batch {n} {ratio('norse_none', 'sim_none_c'):.2f}×; "
        f"compiled at batch 1 {ratio('norse_none', 'sim_none_c_b1'):.2f}×; target ≥ 5×",
        f"- same graph for both (pooling fused, Norse batch 1): simulator at batch {n} "
        f"{ratio('norse_none_c', 'sim_none_c'):.2f}×, at batch 1 {ratio('norse_none_c', 'sim_none_c_b1'):.2f}×",
        f"- **event-driven conv** (compiled graphs, ``conv=\"auto\"``): vs Norse on the standard graph, per sample, "
        f"at batch {n} {ratio('norse_none', 'sim_none_ce'):.2f}×, at batch 1 {ratio('norse_none', 'sim_none_ce_b1'):.2f}×"
        f" (target ≥ 5×); same pooling-fused graph as Norse {ratio('norse_none_c', 'sim_none_ce'):.2f}× / "
        f"{ratio('norse_none_c', 'sim_none_ce_b1'):.2f}×; vs PyTorch forward: vanilla "
        f"{ratio('torch_none', 'sim_none_ce'):.2f}×, ASA fused gains {ratio('torch_asa', 'sim_asa_cfe'):.2f}×, ASA exact "
        f"{ratio('torch_asa', 'sim_asa_cxe'):.2f}×; vs the dense compiled simulator: vanilla "
        f"{ratio('sim_none_c', 'sim_none_ce'):.2f}× (batch {n}), {ratio('sim_none_c_b1', 'sim_none_ce_b1'):.2f}× (batch 1), "
        f"ASA fused {ratio('sim_asa_cf', 'sim_asa_cfe'):.2f}×, ASA exact {ratio('sim_asa_cx', 'sim_asa_cxe'):.2f}×",
        f"- **fused neuron loop** (in every simulator row): compiled vanilla with event conv vs the same run with "
        f"the per-step torch neuron loop {ratio('sim_none_ce_tl', 'sim_none_ce'):.2f}× (batch {n}), "
        f"{ratio('sim_none_ce_b1_tl', 'sim_none_ce_b1'):.2f}× (batch 1); spikes bit-identical: "
        f"{'yes' if loop_same and loop_same_b1 else 'NO'}; with the torch loop vs Norse (SumPool graph) "
        f"{ratio('norse_none', 'sim_none_ce_tl'):.2f}× / {ratio('norse_none', 'sim_none_ce_b1_tl'):.2f}×",
        f"- executed GFLOP/s vs the dense conv ceiling ({dense_gflops:.1f}): compiled vanilla "
        f"{100 * flops['none_c'] / per_sample['sim_none_c'] / 1e9 / dense_gflops:.0f} %, compiled ASA exact "
        f"{100 * flops['asa_cx'] / per_sample['sim_asa_cx'] / 1e9 / dense_gflops:.0f} %, uncompiled vanilla exact "
        f"{100 * flops['none'] / per_sample['sim_none'] / 1e9 / dense_gflops:.0f} %",
        "",
        "Correctness in the same run: uncompiled simulator spikes equal the PyTorch model's in every layer: "
        + ", ".join(f"{att}/{mode}: {'yes' if ok else 'NO'}" for (att, mode), ok in exact.items())
        + ". Compiled graphs (not bit-exact: folded BN and fused pooling reassociate float32 sums; fused ASA "
        f"replaces attention by calibrated gains) differ from the model's spikes in: ASA exact {pct('asa_cx')}, "
        f"ASA fused gains {pct('asa_cf')}, vanilla {pct('none_c')} of all (sample, step, neuron) spike entries. "
        f"Batch-1 simulator output equals its batch-{n} output: {'yes' if b1_same else 'NO'}. "
        f"Norse output spikes agree with the PyTorch model at {100 * norse_agree:.4f} % (SumPool graph) and "
        f"{100 * norse_f_agree:.4f} % (pooling fused) of (step, neuron) entries (Norse fires at v > θ, the model at "
        f"v ≥ θ; float rounding of the folded weights); Norse dropped nodes: {sorted(dropped) or 'none'}; export "
        f"notes: {(notes + notes_f) or 'none'}.",
        "",
        "Event-driven conv, correctness in the same run: spikes that differ from the dense compiled simulator's "
        "(float32 sums in another order; a spike flips only where v is within rounding of the threshold): vanilla "
        f"{_pct(event_vs_dense['sim_none_ce'])}, ASA fused gains {_pct(event_vs_dense['sim_asa_cfe'])}, ASA exact "
        f"{_pct(event_vs_dense['sim_asa_cxe'])}; from the PyTorch model's: vanilla {pct('none_ce')}, ASA exact "
        f"{pct('asa_cxe')}. Batch-1 event output equals its batch-{n} output: {'yes' if ev_b1_same else 'NO'}. "
        f"Extension load (cached build) {ext_seconds:.1f} s; a first build takes ~35 s. Fused neuron loop: load "
        f"{lif_seconds:.1f} s (a first build ~35 s); its spikes equal the torch loop's bit for bit at batch {n} and "
        f"batch 1: {'yes' if loop_same and loop_same_b1 else 'NO'}.",
        "",
        "Per-layer microbenchmark (compiled vanilla graph's convs alone, 60 frames = one sample; fastest of "
        f"{max(5, 3 * reps)} calls, so the table shows the kernels rather than the machine's load):",
        "",
        *layers,
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(section())
