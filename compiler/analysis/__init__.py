"""Static graph analysis: per-layer FLOPs (ASA-SNN Table S2), parameter and neuron counts."""

from snnc.compiler.analysis.flops import LayerStats, analyze, layer_flops, totals  # noqa: F401
