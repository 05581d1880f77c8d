"""The pipeline depth D of a graph under Lava timing (docs/design.md §3.4).

Under Lava timing every delaying node (Affine, Linear, Conv2d, SumPool2d, AvgPool2d) adds one step, so
a node d delaying nodes deep sees input frame t − d at step t. D is the largest such d at an Output:
the number of steps the last input frame needs to reach the output. The pipeline-aware readout pads
each window with D zero frames and counts the output over steps D … T + D − 1.

One definition: the depths are :func:`snnc.compiler.ir.verify.delay_depths` (recurrent edges are not
followed, so a recurrent loop adds no depth).
"""

from __future__ import annotations

import nir

from snnc.compiler.ir.graph_utils import back_edges
from snnc.compiler.ir.verify import delay_depths


def node_depths(graph: nir.NIRGraph) -> dict[str, int]:
    """name -> the largest number of delaying nodes on a feed-forward path from the Input up to and
    including the node (d_k of docs/design.md §3.4; max over paths when they differ)."""
    return {name: max(ds) for name, ds in delay_depths(graph).items()}


def pipeline_depth(graph: nir.NIRGraph) -> int:
    """D = max over Output nodes of :func:`node_depths`: delaying connections on the longest path from
    the input to the output. 0 for a graph without delaying nodes."""
    depths = node_depths(graph)
    outputs = [n for n, node in graph.nodes.items() if isinstance(node, nir.Output)]
    return max((depths[n] for n in outputs), default=0)


def single_depth(graph: nir.NIRGraph) -> bool:
    """True when the graph is feed-forward and every node has one depth (all its paths from the input
    cross the same number of delaying nodes). Then the pipeline readout under Lava timing is snnc timing
    exactly, every layer shifted by its depth (docs/design.md §3.4), so one snnc-timing run serves both."""
    return not back_edges(graph) and all(len(ds) == 1 for ds in delay_depths(graph).values())


def pipeline_extras(D: int, depths: dict[str, int], outside_events: dict[str, float] | None = None) -> dict:
    """What a pipeline-readout run records in ``SimResult.extras`` (every backend the same): the readout,
    D, each spiking layer's depth d_k (its recorded spikes are window steps d_k … d_k + T − 1), the padded
    steps per sample, and input events a synapse received outside its active steps (only where paths of
    different depths join)."""
    return {"readout": "pipeline", "pipeline_depth": int(D), "layer_depths": {k: int(v) for k, v in depths.items()},
            "padding_steps": int(D), "outside_events": dict(outside_events or {})}
