"""What every backend returns: recorded spikes (and optionally voltages) of one run."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SimResult:
    """Recordings of one batched run.

    ``spikes[name]``: [N, T, *shape] spikes of each spiking node (float32 0/1, or counts);
    ``output``: [N, T, *out_shape] the graph output; ``voltages``: same keys as ``spikes`` when
    requested; ``timing``/``numerics``: the conventions the run used.
    """

    spikes: dict[str, np.ndarray]
    output: np.ndarray
    voltages: dict[str, np.ndarray] = field(default_factory=dict)
    timing: str = "snnc"
    numerics: str = "float"
    extras: dict = field(default_factory=dict)
