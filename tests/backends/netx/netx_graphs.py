"""Chain graphs for the NetX tests (imported as ``netx_graphs``): conv → LIF [→ SumPool] → conv → LIF
[→ SumPool] → Flatten → Affine → LIF, and the netx compile pipeline run as ``snnc compile`` runs it."""

from __future__ import annotations

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import make_graph


def lif_node(shape, beta: float, theta: float = 1.0) -> nir.LIF:
    """An snnc-style LIF (v = β v + I; reset to 0)."""
    n = np.ones(shape, np.float32)
    node = nir.LIF(tau=n * 1e-3 / (1 - beta), r=n / (1 - beta), v_leak=0 * n, v_threshold=theta * n, v_reset=0 * n)
    node.metadata = {"snnc": {"beta": float(np.float32(beta)), "gain": 1.0}}
    return node


def _conv_out(h: int, k: int, s: int, p: int) -> int:
    return (h + 2 * p - k) // s + 1


def chain_graph(rng: np.random.Generator, *, C: int = 2, H: int = 6, W: int = 6, c1: int = 3, k1: int = 3,
                pool1: int = 0, c2: int = 4, k2: int = 3, stride2: int = 1, pad2: int = 1, pool2: int = 0,
                fc: int = 5, bias: bool = True, beta: float = 0.7) -> nir.NIRGraph:
    """A random chain; conv1 keeps H×W (pad k1 // 2, odd k1), so pool1 must divide H and W to be fusable."""
    h1, w1 = _conv_out(H, k1, 1, k1 // 2), _conv_out(W, k1, 1, k1 // 2)
    nodes = {"input": nir.Input(input_type=np.array([C, H, W]))}
    edges: list[tuple[str, str]] = []

    def conv(name, src, cin, cout, k, s, p, h, w):
        nodes[name] = nir.Conv2d(input_shape=(h, w), weight=rng.normal(0, 1.0, (cout, cin, k, k)).astype(np.float32),
                                 stride=s, padding=p, dilation=1, groups=1,
                                 bias=(rng.normal(0, 0.2, cout) if bias else np.zeros(cout)).astype(np.float32))
        edges.append((src, name))

    def pool(name, src, p):
        nodes[name] = nir.SumPool2d(kernel_size=np.array([p, p]), stride=np.array([p, p]), padding=np.array([0, 0]))
        edges.append((src, name))

    conv("b0_conv", "input", C, c1, k1, 1, k1 // 2, H, W)
    nodes["b0_lif"] = lif_node((c1, h1, w1), beta)
    edges.append(("b0_conv", "b0_lif"))
    last, h, w = "b0_lif", h1, w1
    if pool1:
        pool("b1_pool", last, pool1)
        last, h, w = "b1_pool", h // pool1, w // pool1
    k2 = min(k2, h + 2 * pad2, w + 2 * pad2)  # never an empty map
    conv("b1_conv", last, c1, c2, k2, stride2, pad2, h, w)
    h, w = _conv_out(h, k2, stride2, pad2), _conv_out(w, k2, stride2, pad2)
    nodes["b1_lif"] = lif_node((c2, h, w), beta, theta=0.8)
    edges.append(("b1_conv", "b1_lif"))
    last = "b1_lif"
    if pool2 and h >= pool2 and w >= pool2:
        pool("b2_pool", last, pool2)
        last, h, w = "b2_pool", h // pool2, w // pool2
    n_in = c2 * h * w
    nodes["b2_flatten"] = nir.Flatten(input_type={"input": np.array([c2, h, w])}, start_dim=0)
    w_fc = rng.normal(0, 1.5, (fc, n_in)) / np.sqrt(max(1.0, n_in / 8))
    nodes["b2_fc"] = nir.Affine(weight=w_fc.astype(np.float32),
                                bias=(rng.normal(0, 0.1, fc) if bias else np.zeros(fc)).astype(np.float32))
    nodes["b2_lif"] = lif_node((fc,), beta)
    nodes["output"] = nir.Output(output_type=np.array([fc]))
    edges += [(last, "b2_flatten"), ("b2_flatten", "b2_fc"), ("b2_fc", "b2_lif"), ("b2_lif", "output")]
    return make_graph(nodes, edges, {"snnc": {"format": 1, "threshold": ">", "reset": "zero", "dt": 1e-3,
                                              "numerics": "float"}})


def compile_netx(graph: nir.NIRGraph, calibration: np.ndarray) -> nir.NIRGraph:
    """The ``--target netx`` pass list (fixed point, per-channel gains folded) on ``graph``."""
    from snnc.backends.cpu import run as cpu_run
    from snnc.compiler.passes import PipelineContext
    from snnc.compiler.pipeline import pipeline_options, run_pipeline, select_passes

    names = select_passes("netx", fixed_point=True)
    options = pipeline_options("netx", names, fuse_asa_gains={"granularity": "c"})
    compiled, _ = run_pipeline(graph, names, options, context=PipelineContext(run=cpu_run, calibration=calibration))
    return compiled
