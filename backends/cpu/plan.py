"""What the reference simulator derives from a graph once (:class:`Plan`), and its input checks.

The plan holds the order, the frame kernels, the numerics (float32, or fixed point in float64), the timing
convention (docs/design.md §3.4) and, for a pipeline readout, every node's depth d_k and the pipeline depth D
(:mod:`snnc.compiler.ir.depth`).
"""

from __future__ import annotations

import numpy as np
import nir
import torch

from snnc.backends.cpu.ops import CONV_MODES, FRAME_KINDS, frame_kernel
from snnc.compiler.ir import inputs
from snnc.compiler.ir.depth import node_depths
from snnc.compiler.ir.graph_utils import back_edges, node_kind, predecessors, successors, topological_order
from snnc.compiler.ir.kinds import DELAYING_KINDS
from snnc.compiler.ir.shapes import infer_shapes, shape_of
from snnc.compiler.ir.verify import check_supported, timegain_depth
from snnc.errors import SnncError

READOUTS = ("unshifted", "pipeline")


class Plan:
    """Everything ``run`` derives from the graph once: order, kernels, conventions."""

    def __init__(self, graph: nir.NIRGraph, timing: str, threshold: str | None, dt: float | None,
                 channels_last: bool, conv: str | None = None, readout: str = "unshifted") -> None:
        if timing not in ("snnc", "lava"):
            raise SnncError(f"timing: must be 'snnc' or 'lava', got {timing!r}")
        if readout not in READOUTS:
            raise SnncError(f"readout: must be one of {', '.join(READOUTS)}, got {readout!r}")
        if conv is not None and conv not in CONV_MODES:
            raise SnncError(f"conv: must be one of {', '.join(CONV_MODES)}, got {conv!r}")
        check_supported(graph)
        self.g = infer_shapes(graph)
        meta = (self.g.metadata or {}).get("snnc") or {}
        kinds = {node_kind(n) for n in self.g.nodes.values()}
        self.fixed = meta.get("numerics") == "fixed" or "LoihiLIF" in kinds
        if conv is None:  # the default: exact either way (float: F.conv2d's bits; fixed point: the same integers)
            conv = "auto" if self.fixed else "dense"
        self.dtype = torch.float64 if self.fixed else torch.float32
        self.threshold = threshold or meta.get("threshold", ">")
        if self.threshold not in (">", ">="):
            raise SnncError(f"threshold: must be '>' or '>=', got {self.threshold!r}")
        self.reset = meta.get("reset", "zero")
        self.dt = float(dt if dt is not None else meta.get("dt", 1e-3))
        self.timing = timing
        self.order = topological_order(self.g)
        self.pred = predecessors(self.g)
        self.succ = successors(self.g)
        self.back = back_edges(self.g)
        self.kernels = {n: frame_kernel(node, shape_of(self.g, n, "output"), self.dtype, self.fixed, channels_last, conv)
                        for n, node in self.g.nodes.items() if node_kind(node) in FRAME_KINDS}
        self.inputs = [n for n in self.order if isinstance(self.g.nodes[n], nir.Input)]
        self.outputs = [n for n in self.order if isinstance(self.g.nodes[n], nir.Output)]
        self.depth = {n: timegain_depth(self.g, n) for n, node in self.g.nodes.items()
                      if node_kind(node) == "TimeGain"} if timing == "lava" else {}
        # pipeline readout: every node's depth d_k (its T active steps start there) and D
        self.pipeline = timing == "lava" and readout == "pipeline"
        self.start = node_depths(self.g) if self.pipeline else {}
        self.D = max((self.start[n] for n in self.outputs), default=0) if self.pipeline else 0
        self.T_active = 0  # set by run(): the T of the input (the run lasts T + D steps)
        self.outside_events: dict[str, float] = {}  # synapse -> input events outside its active steps

    def kind(self, name: str) -> str:
        return node_kind(self.g.nodes[name])

    def delays(self, name: str) -> bool:
        return self.timing == "lava" and self.kind(name) in DELAYING_KINDS

    def source_steps(self, name: str, T: int) -> np.ndarray:
        """s(t) = max(0, t − d), capped at the gain's last step (reached only by the padded steps of a
        pipeline run, where the neuron behind the TimeGain is at rest)."""
        d = self.depth.get(name, 0)
        s = np.maximum(0, np.arange(T) - d)
        return np.minimum(s, np.asarray(self.g.nodes[name].gain).shape[0] - 1) if self.pipeline else s

    def active(self, name: str) -> slice | None:
        """The T active steps d_k … d_k + T − 1 of node ``name`` in a pipeline run (None otherwise)."""
        if not self.pipeline:
            return None
        d = self.start[name]
        return slice(d, d + self.T_active)


def check_input(plan: Plan, x) -> torch.Tensor:
    """x as a tensor [N, T, *in_shape] (:func:`snnc.compiler.ir.inputs.check_input`)."""
    x = inputs.check_input(x, shape_of(plan.g, plan.inputs[0], "output"))
    return torch.as_tensor(np.ascontiguousarray(x), dtype=plan.dtype)


def pipeline_input(plan: Plan, xt: torch.Tensor) -> torch.Tensor:
    """The frames a run steps through: x itself, or for a pipeline readout x and D zero frames (and
    ``plan.T_active`` = T)."""
    if not plan.pipeline:
        return xt
    plan.T_active = int(xt.shape[1])
    return torch.cat([xt, xt.new_zeros((xt.shape[0], plan.D, *xt.shape[2:]))], dim=1)
