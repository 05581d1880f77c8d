"""Groups of IR node kinds (the names :func:`snnc.compiler.ir.graph_utils.node_kind` returns): the one
definition that passes, analyses and backends use. What one backend can host is that backend's own list.
"""

from __future__ import annotations

SYNAPSE_KINDS: tuple[str, ...] = ("Conv2d", "Affine", "Linear")  # weighted: synaptic operations, quantized weights
DENSE_KINDS: tuple[str, ...] = ("Affine", "Linear")
POOL_KINDS: tuple[str, ...] = ("AvgPool2d", "SumPool2d")  # linear pooling: a depthwise conv of constant weights
# one step of delay under Lava timing (docs/design.md §3.4): every synapse and linear pooling
DELAYING_KINDS: tuple[str, ...] = SYNAPSE_KINDS + POOL_KINDS

SPIKING_KINDS: tuple[str, ...] = ("LIF", "IF", "CubaLIF", "LoihiLIF")  # emit spikes
NIR_SPIKING_KINDS: tuple[str, ...] = ("IF", "LIF", "CubaLIF")  # the spiking kinds of standard NIR
# the kinds :func:`snnc.compiler.neuron_params.neuron_params` derives float parameters for
FLOAT_NEURON_KINDS: tuple[str, ...] = ("LIF", "IF", "CubaLIF", "LI")
NEURON_KINDS: tuple[str, ...] = SPIKING_KINDS + ("LI",)  # the neuron populations the simulators run
# every NIR neuron kind and LoihiLIF
ALL_NEURON_KINDS: tuple[str, ...] = ("LIF", "IF", "LI", "CubaLIF", "CubaLI", "I", "LoihiLIF")
