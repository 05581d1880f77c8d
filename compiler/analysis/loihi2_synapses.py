r"""One synapse group of the Loihi 2 resource model: its geometry, fan-in, fan-out and memory on one core.

A group is one IR synapse node (Conv2d, Affine/Linear, a pooling) feeding one population. Dense groups
use discrete axons (one per input neuron) and store every weight. Convolutions (and pools, as depthwise
convolutions) use Loihi's *population axons* with weight sharing, modelled on nengo-loihi's
``conv2d_loihi_weights`` (Loihi 1): one axon per input pixel (the channel is the axon's atom), and a core
holding c output channels stores the kernel slice of those channels **once** (all pixels share it):

.. math::

    \text{sets}(c) = \tfrac{C_\text{in}}{g}\,\lceil c / o \rceil, \qquad
    \text{weights}(c) = \text{sets}(c)\, k_h k_w \min(c, o), \qquad
    \text{bits}(c) = \text{sets}(c)\; \mathrm{bpa}\big(k_h k_w \min(c, o)\big)

(g groups, o = C_out / g outputs per group; dense: sets = n_in, k = 1, o = C_out). bpa is nengo-loihi's
``SynapseConfig.bits_per_axon`` in the dense format: n weights of b bits in blocks of 64, each block
⌈(64-block weights · b + 10) / 64⌉ 64-bit words. In-axons of a core: dense n_in; conv the input pixels
that the core's output tile (r rows × w columns) reads, min(H_in, (r − 1) s_h + d_h (k_h − 1) + 1) ×
(the same for columns), times the number of source populations when several are summed into the group
(residual adds: each source sends its own axons; the weights are shared). A ``join`` group is the identity
sum of p partial-sum populations (fan-in split). Weights of zero are stored too (dense format, no compression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snnc.compiler.analysis.loihi2_limits import WEIGHT_BITS_CHOICES, Loihi2Limits


def bits_per_axon(n_weights: int, weight_bits: int, limits: Loihi2Limits) -> int:
    """Synaptic-memory bits of one axon carrying ``n_weights`` weights (nengo-loihi dense format)."""
    bits, block, word = 0, limits.synapses_per_block, limits.memory_word_bits
    for i in range(0, n_weights, block):
        n = min(n_weights - i, block)
        bits += word * math.ceil((n * weight_bits + limits.block_header_bits) / word)
    return bits


def weight_bits_of(weight: np.ndarray | None, limits: Loihi2Limits) -> tuple[int, str]:
    """(bits per stored weight, note). Integer weights: magnitude bits + 1 sign bit when signs are mixed,
    rounded up to a width the chip has; float weights: the chip's maximum (as ``quantize`` would store them)."""
    if weight is None:
        return 1, "equal weights (pooling)"
    w = np.asarray(weight, np.float64)
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w != np.round(w)):
        return limits.max_weight_bits, f"float weights: assumed quantized to {limits.max_weight_bits} bits"
    mag = int(np.abs(w).max())
    need = max(1, mag.bit_length() + int(bool((w < 0).any() and (w > 0).any())))
    fits = [b for b in WEIGHT_BITS_CHOICES if need <= b <= limits.max_weight_bits]
    if not fits:
        return limits.max_weight_bits, f"needs {need} bits > {limits.max_weight_bits}: the chip would clip"
    return fits[0], ""


def _valid_pairs(n_out: int, n_in: int, k: int, s: int, p: int, d: int) -> tuple[int, int]:
    """(# (output i, tap a) pairs reading a real input, max # pairs reading one input) along one axis."""
    hits = np.zeros(max(n_in, 1), np.int64)
    for a in range(k):
        x = s * np.arange(n_out) + d * a - p
        x = x[(x >= 0) & (x < n_in)]
        np.add.at(hits, x, 1)
    return int(hits.sum()), int(hits.max(initial=0))


@dataclass(frozen=True)
class SynapseGroup:
    """Geometry of one synapse node: ``mode`` conv | dense | join; shapes are per step (C, H, W)."""

    node: str
    label: str
    mode: str
    c_in: int
    c_out: int
    groups: int = 1
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    in_hw: tuple[int, int] = (1, 1)
    out_hw: tuple[int, int] = (1, 1)
    weight_bits: int = 8
    parts: int = 1  # join: partial sums per neuron
    sources: int = 1  # populations whose (summed) outputs arrive: each sends its own axons, weights are shared

    @property
    def per_group_out(self) -> int:
        return self.c_out // self.groups

    @property
    def fan_in(self) -> int:
        """Synapses into one (interior) neuron."""
        if self.mode == "join":
            return self.parts
        return (self.c_in // self.groups) * self.kernel[0] * self.kernel[1]

    def logical_synapses(self) -> int:
        """Connections (border taps that read padding not counted)."""
        if self.mode == "dense":
            return self.c_in * self.c_out
        if self.mode == "join":
            return self.parts * self.c_out * self.out_hw[0] * self.out_hw[1]
        vh, _ = _valid_pairs(self.out_hw[0], self.in_hw[0], self.kernel[0], self.stride[0], self.padding[0],
                             self.dilation[0])
        vw, _ = _valid_pairs(self.out_hw[1], self.in_hw[1], self.kernel[1], self.stride[1], self.padding[1],
                             self.dilation[1])
        return self.c_out * (self.c_in // self.groups) * vh * vw

    def fan_out(self) -> int:
        """Neurons of the target one source neuron reaches (the busiest source)."""
        if self.mode in ("dense", "join"):
            return self.c_out if self.mode == "dense" else 1
        _, mh = _valid_pairs(self.out_hw[0], self.in_hw[0], self.kernel[0], self.stride[0], self.padding[0],
                             self.dilation[0])
        _, mw = _valid_pairs(self.out_hw[1], self.in_hw[1], self.kernel[1], self.stride[1], self.padding[1],
                             self.dilation[1])
        return self.per_group_out * mh * mw

    def _sets_and_width(self, c: int) -> tuple[int, int]:
        """(weight sets = axons' stored rows, weights per set) on a core holding ``c`` output channels."""
        if self.mode == "dense":
            return self.c_in, c
        if self.mode == "join":
            return c * self.out_hw[0] * self.out_hw[1] * self.parts, 1
        o = self.per_group_out
        return (self.c_in // self.groups) * math.ceil(c / o), self.kernel[0] * self.kernel[1] * min(c, o)

    def stored_weights(self, c: int) -> int:
        """Weights stored on a core holding ``c`` output channels (module docstring)."""
        sets, width = self._sets_and_width(c)
        return sets * width

    def memory_bits(self, c: int, limits: Loihi2Limits) -> int:
        """Synaptic-memory bits on a core holding ``c`` output channels."""
        sets, width = self._sets_and_width(c)
        return sets * bits_per_axon(width, self.weight_bits, limits)

    def in_axons(self, c: int, rows: int, cols: int) -> int:
        """Input axons of a core holding ``c`` channels of a ``rows`` × ``cols`` output tile."""
        if self.mode == "dense":
            return self.c_in * self.sources
        if self.mode == "join":
            return self.parts * c * rows * cols
        span_h = (rows - 1) * self.stride[0] + self.dilation[0] * (self.kernel[0] - 1) + 1
        span_w = (cols - 1) * self.stride[1] + self.dilation[1] * (self.kernel[1] - 1) + 1
        return min(self.in_hw[0], span_h) * min(self.in_hw[1], span_w) * self.sources

    def describe(self) -> str:
        if self.mode == "conv":
            k, s = self.kernel, self.stride
            g = f" g{self.groups}" if self.groups > 1 else ""
            return f"{self.label} {k[0]}x{k[1]}/s{s[0]}{g}"
        return self.label
