r"""Synaptic operations of a run, recomputed from its recorded spikes (any backend).

A synapse node S (Conv2d, Affine, Linear) fed the signal z_t performs, at step t,

.. math:: \mathrm{synops}_S(t) = \sum_j z_{t,j} \cdot F_j = \sum \big(S_{W = 1}(z_t)\big)

where F_j is the exact fan-out of input j (the number of connections it has, with stride, padding,
dilation and groups), i.e. the synapse applied with all-ones weights and no bias, times k_h·k_w per
AvgPool2d between the spikes and S (an average of spikes routed as a sum of events). The count is
the one of :mod:`snnc.compiler.analysis.counts` (``SynapseCount.ops``, called here step by step), so the
simulator's counter and this replay share one definition. For binary spikes this is the number of
synaptic events an event-driven chip processes. z is rebuilt from
the graph input and the *recorded* spikes of every spiking node by running only the stateless
nodes between them (Flatten, pools, TimeGain, ...) with the CPU simulator's kernels, under the
run's timing (lava: each delaying node sees its input one step late; a pipeline readout of a single-depth
graph records each layer's T active steps, which are snnc timing: replayed without shifts).
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.backends.result import SimResult
from snnc.compiler.fixed_point import time_gain_apply, time_gain_float
from snnc.compiler.ir.graph_utils import node_kind, predecessors, topological_order
from snnc.compiler.ir.kinds import DELAYING_KINDS, NEURON_KINDS, SYNAPSE_KINDS
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.ir.verify import timegain_depth



def synops_per_step(graph: nir.NIRGraph, x: np.ndarray, result: SimResult) -> dict[str, np.ndarray]:
    """Synapse node name -> synaptic operations per step [T], summed over the samples (float64)."""
    import torch

    from snnc.compiler.analysis.counts import synapse_count
    from snnc.backends.cpu.ops import frame_kernel

    g = infer_shapes(graph)
    fixed = result.numerics == "fixed"
    pred = predecessors(g)
    n, T = x.shape[:2]
    lava = result.timing == "lava" and result.extras.get("readout") != "pipeline"
    values: dict[str, torch.Tensor] = {}
    out: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for name in topological_order(g):
            node = g.nodes[name]
            kind = node_kind(node)
            if kind == "Input":
                values[name] = torch.as_tensor(np.asarray(x, np.float64))
                continue
            if name in result.spikes:
                values[name] = torch.as_tensor(np.asarray(result.spikes[name], np.float64))
                continue
            srcs = [p for p in pred[name] if p in values]
            if not srcs or len(srcs) != len(pred[name]):
                continue  # downstream of a non-spiking stateful node (LI) or a recurrent edge: not replayed
            z = values[srcs[0]]
            for s in srcs[1:]:
                z = z + values[s]
            if lava and kind in DELAYING_KINDS:
                shifted = torch.zeros_like(z)
                shifted[:, 1:] = z[:, :-1]
                z = shifted
            frames = z.reshape(n * T, *z.shape[2:])
            if kind in SYNAPSE_KINDS:
                syn = synapse_count(g, name, pred)
                out[name] = np.array([syn.ops(z[:, t]) for t in range(T)], dtype=np.float64)
            if kind == "TimeGain":
                d = timegain_depth(g, name) if lava else 0
                steps = np.maximum(0, np.arange(T) - d)
                if fixed and np.asarray(node.gain_mant).size:
                    m = torch.as_tensor(np.asarray(node.gain_mant, np.float64)[steps])
                    values[name] = time_gain_apply(z, m, node.gain_shift)
                else:
                    values[name] = time_gain_float(z, torch.as_tensor(np.asarray(node.gain, np.float64)[steps]))
            elif kind == "ASA" or kind in NEURON_KINDS:
                continue  # stateful or whole-window: its output is not replayed
            elif kind == "Output":
                continue
            else:
                shape = shape_of(g, name, "output")
                y = frame_kernel(node, shape, torch.float64, fixed)(frames)
                values[name] = y.reshape(n, T, *y.shape[1:])
    return out
