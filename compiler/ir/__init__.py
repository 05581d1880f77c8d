"""The snnc IR: a ``nir.NIRGraph`` of standard NIR nodes plus the extension nodes in
:mod:`snnc.compiler.ir.nodes` (BatchNorm, ASA, TimeGain, MaxPool2d, LoihiLIF)."""

from snnc.compiler.ir.nodes import (  # noqa: F401
    ASA,
    EXTENSION_NODES,
    BatchNorm,
    LoihiLIF,
    MaxPool2d,
    TimeGain,
)
