"""Small random graphs and inputs for the Lava backend tests (imported as ``lava_graphs``).

Every Lava run builds one OS process per Lava process, so graphs here are tiny (≤ 3 layers, a few
hundred neurons) and runs short (≤ 8 steps, 2 samples), except the single-neuron NIR paper case.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.backends.lava import compat
from snnc.compiler.ir.graph_utils import make_graph

compat.install()  # before any Lava import


def lif_node(shape, beta: float = 0.7, theta: float = 1.0) -> nir.LIF:
    """An snnc-style LIF (v = β v + I; reset to 0) of the given per-step shape."""
    n = np.ones(shape, np.float32)
    node = nir.LIF(tau=n * 1e-3 / (1 - beta), r=n / (1 - beta), v_leak=0 * n, v_threshold=theta * n, v_reset=0 * n)
    node.metadata = {"snnc": {"beta": float(np.float32(beta)), "gain": 1.0}}
    return node


def conv_graph(rng: np.random.Generator, *, C: int = 2, H: int = 6, W: int = 5, out_c: int = 3, k=(3, 2),
               stride=(1, 2), padding=(1, 0), dilation=(1, 1), pool: int = 0, pool_kind: str = "SumPool2d",
               fc: int = 4, bias: bool = True,
               beta: float = 0.7, theta: float = 1.0, timegain: int = 0) -> nir.NIRGraph:
    """Input → Conv2d [→ TimeGain] → LIF [→ SumPool2d] → Flatten → Affine → LIF → Output, random weights.

    ``timegain`` = T adds a per-(t, c) TimeGain with gains in [0.5, 2] before the first LIF.
    """
    from snnc.backends.lava.layout import conv_output_chw
    from snnc.compiler.ir.nodes import TimeGain

    w = rng.normal(0, 0.9, (out_c, C) + tuple(k)).astype(np.float32)
    b = rng.normal(0, 0.1, out_c).astype(np.float32) if bias else np.zeros(out_c, np.float32)
    cshape = conv_output_chw((C, H, W), w.shape, stride, padding, dilation)
    nodes = {"input": nir.Input(input_type=np.array([C, H, W])),
             "b0_conv": nir.Conv2d(input_shape=(H, W), weight=w, stride=stride, padding=padding, dilation=dilation,
                                   groups=1, bias=b),
             "b0_lif": lif_node(cshape, beta, theta)}
    edges = [("input", "b0_conv"), ("b0_conv", "b0_lif")]
    if timegain:
        gain = rng.uniform(0.5, 2.0, (timegain, out_c, 1, 1)).astype(np.float32)
        nodes["b0_attn"] = TimeGain(gain=gain, shape=np.array(cshape))
        edges = [("input", "b0_conv"), ("b0_conv", "b0_attn"), ("b0_attn", "b0_lif")]
    last, shape = "b0_lif", cshape
    if pool:
        nodes["b1_pool"] = getattr(nir, pool_kind)(kernel_size=np.array([pool, pool]), stride=np.array([pool, pool]),
                                                   padding=np.array([0, 0]))
        edges.append((last, "b1_pool"))
        last, shape = "b1_pool", (shape[0], shape[1] // pool, shape[2] // pool)
    n_in = int(np.prod(shape))
    nodes["b1_flatten"] = nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0)
    nodes["b1_fc"] = nir.Affine(weight=rng.normal(0, 1.2, (fc, n_in)).astype(np.float32) / np.sqrt(max(1, n_in / 8)),
                                bias=(rng.normal(0, 0.1, fc) if bias else np.zeros(fc)).astype(np.float32))
    nodes["b1_lif"] = lif_node((fc,), beta, theta)
    nodes["output"] = nir.Output(output_type=np.array([fc]))
    edges += [(last, "b1_flatten"), ("b1_flatten", "b1_fc"), ("b1_fc", "b1_lif"), ("b1_lif", "output")]
    return make_graph(nodes, edges, {"snnc": {"format": 1, "threshold": ">", "reset": "zero", "dt": 1e-3,
                                              "numerics": "float"}})


def spikes_input(rng: np.random.Generator, N: int, T: int, shape, p: float = 0.4, counts: bool = False) -> np.ndarray:
    """Binary spikes with probability p, or (``counts``) Poisson event counts of mean p."""
    if counts:
        return rng.poisson(p, (N, T) + tuple(shape)).astype(np.float32)
    return (rng.random((N, T) + tuple(shape)) < p).astype(np.float32)


def residual_graph(rng: np.random.Generator, C: int = 2, H: int = 5, W: int = 5) -> nir.NIRGraph:
    """Two conv → LIF branches whose spikes are summed (two edges) into a third conv → LIF."""
    def conv(cin, cout):
        return nir.Conv2d(input_shape=(H, W), weight=rng.normal(0, 0.9, (cout, cin, 3, 3)).astype(np.float32),
                          stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(cout, np.float32))

    nodes = {"input": nir.Input(input_type=np.array([C, H, W])),
             "b0_conv": conv(C, 3), "b0_lif": lif_node((3, H, W)),
             "b1_conv": conv(C, 3), "b1_lif": lif_node((3, H, W), beta=0.5),
             "b2_conv": conv(3, 2), "b2_lif": lif_node((2, H, W), theta=0.8),
             "output": nir.Output(output_type=np.array([2, H, W]))}
    edges = [("input", "b0_conv"), ("b0_conv", "b0_lif"), ("input", "b1_conv"), ("b1_conv", "b1_lif"),
             ("b0_lif", "b2_conv"), ("b1_lif", "b2_conv"), ("b2_conv", "b2_lif"), ("b2_lif", "output")]
    return make_graph(nodes, edges, {"snnc": {"format": 1, "threshold": ">", "reset": "zero", "dt": 1e-3,
                                              "numerics": "float"}})
