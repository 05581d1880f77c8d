"""The reference CPU simulator (backend ``"cpu"``): the specification every other backend is tested against.

``run(graph, x, *, timing="snnc", record_voltage=False, threshold=None) -> SimResult`` simulates an snnc
IR graph on a batch x [N, T, *in_shape] (docs/design.md §5), in float (bit-identical to the snnc PyTorch
models) or in Lava's fixed point (``numerics == "fixed"`` or LoihiLIF nodes). ``snnc.compiler.analysis.counts``
measures spikes and synaptic operations; ``snnc.compiler.analysis.energy`` holds the energy models.
"""

from __future__ import annotations

from snnc.backends.cpu.simulator import run

__all__ = ["run"]
