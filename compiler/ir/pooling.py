"""Linear pooling as a depthwise convolution: the one definition the passes and the backends use.

AvgPool2d / SumPool2d (kernel K, stride S, padding p) on C channels equals the depthwise Conv2d
(groups C, stride S, padding p, no bias) whose (C, 1, K_h, K_w) weight is κ everywhere, with
κ = 1/(K_h K_w) for AvgPool2d (zero padding counted in the average, PyTorch's
``count_include_pad=True``) and κ = 1 for SumPool2d.
"""

from __future__ import annotations

import numpy as np


def pool_factor(kind: str, kernel: tuple[int, int]) -> float:
    """κ: 1/(K_h K_w) for an average pool, 1 for a sum pool."""
    return 1.0 / (kernel[0] * kernel[1]) if kind == "AvgPool2d" else 1.0


def pool_as_depthwise(kind: str, channels: int, kernel: tuple[int, int]) -> np.ndarray:
    """The (C, 1, K_h, K_w) float64 depthwise weight equal to the pool: κ everywhere (PyTorch layout)."""
    return np.full((channels, 1, *kernel), pool_factor(kind, kernel), np.float64)
