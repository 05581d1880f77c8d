"""A compiled graph -> the loihi2 spec: the Lava spec (:func:`snnc.backends.lava.lower.lower`, reused
as it is) restricted to what stock Loihi 2 processes express, plus the window plan.

Refused first (:func:`.check.refuse_compiled`), then by the Lava lowering, then here: float numerics,
an input gain or a TimeGain on a neuron, a threshold that is not one scalar per population (stock
``LIF.vth`` has shape (1,)). Added as ``spec["loihi2"]``:

- ``D`` = :func:`snnc.compiler.ir.depth.pipeline_depth` (delaying connections input → output);
- ``depths`` = d_k per neuron population (:func:`snnc.compiler.ir.depth.node_depths`) and
  ``single_depth`` (every population reached by paths of one length only, from ``delay_depths``);
- ``window``: ``"reset"`` (staggered ``LIFReset``) when ``single_depth``, else ``"pad"``.
"""

from __future__ import annotations

import numpy as np
import nir

from snnc.backends.loihi2.check import refuse_compiled
from snnc.compiler.ir.depth import node_depths, pipeline_depth
from snnc.compiler.ir.verify import delay_depths
from snnc.errors import SnncError, UnsupportedNodeError

WINDOWS = ("reset", "pad")


def lower_for_chip(graph: nir.NIRGraph, *, clip_weights: bool = False) -> dict:
    """The loihi2 spec of ``graph`` (module docstring); raises before anything is built."""
    from snnc.backends.lava.lower import lower

    refuse_compiled(graph)
    spec = lower(graph, clip_weights=clip_weights)
    if not spec["fixed"]:
        raise SnncError("loihi2: the graph is not fixed point; compile with --target loihi2 (quantize runs by default)")
    for layer in spec["layers"]:
        if layer["kind"] != "neuron":
            continue
        name = layer["name"]
        if layer["gain"] is not None or float(layer["in_gain"]) != 1.0:
            raise UnsupportedNodeError(f"loihi2: neuron {name!r} has an input gain, which a stock LIF cannot host; "
                                       "way out: --gain-granularity c")
        vth = np.asarray(layer["vth"])
        if vth.size > 1 and np.ptp(vth):
            raise UnsupportedNodeError(f"loihi2: neuron {name!r} has per-neuron thresholds; a stock LIF has one "
                                       "vth per population")
    sets = delay_depths(graph)
    depths = node_depths(graph)
    neurons = [layer["name"] for layer in spec["layers"] if layer["kind"] == "neuron"]
    single = all(len(sets[n]) == 1 for n in neurons)
    spec["target"] = "loihi2"
    spec["loihi2"] = {"D": int(pipeline_depth(graph)), "depths": {n: int(depths[n]) for n in neurons},
                      "single_depth": bool(single), "window": "reset" if single else "pad"}
    return spec
