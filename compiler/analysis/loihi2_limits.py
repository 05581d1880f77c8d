"""Loihi 2 limits of the resource model (:mod:`snnc.compiler.analysis.loihi2_resources`), each with its source.

Per-chip limits are public; Loihi 2's per-core limits are not (they live in the non-public Lava
extension's compiler). Where a limit is not public it is an explicit **assumption**, taken from Loihi 1
as nengo-loihi encodes it (nengo-loihi 1.1, commit e564f66, ``nengo_loihi/block.py``:
``MAX_COMPARTMENTS``, ``MAX_IN_AXONS``, ``MAX_SYNAPSE_BITS``, ``SynapseConfig.bits_per_axon``), or
derived from the chip totals; ``status`` says which. Every number is a field of :class:`Loihi2Limits`, so a
caller (or a test) can model another chip by passing different values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

BRIEF = ("Intel Labs, 'Taking Neuromorphic Computing to the Next Level with Loihi 2', Technology Brief (2021)")


@dataclass(frozen=True)
class Limit:
    """One limit: its value, whether it is public or assumed, and where it comes from."""

    name: str
    value: int
    status: str  # "public" | "assumed"
    source: str


@dataclass(frozen=True)
class Loihi2Limits:
    """The numbers the resource model uses (defaults: the Loihi 2 values and assumptions of :data:`LIMITS`)."""

    cores_per_chip: int = 128
    neurons_per_chip: int = 1_000_000
    synapses_per_chip: int = 120_000_000
    neurons_per_core: int = 8192
    synapse_bits_per_core: int = 16384 * 64
    in_axons_per_core: int = 4096
    max_weight_bits: int = 8
    synapses_per_block: int = 64  # weights per synaptic-memory block (nengo-loihi n_synapses + 1)
    block_header_bits: int = 4 + 6  # synapse_idx_bits + n_synapses_bits per block
    memory_word_bits: int = 64

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


DEFAULT_LIMITS = Loihi2Limits()

#: each default value of :data:`DEFAULT_LIMITS` with its status ("public" | "assumed") and source
_SOURCES: dict[str, tuple[str, str]] = {
    "cores_per_chip": ("public", f"{BRIEF}: 128 neuromorphic cores per chip; lava-nc 0.10.0 "
                       "lava/magma/compiler/subcompilers/constants.py NUM_VIRTUAL_CORES_L2 = 128"),
    "neurons_per_chip": ("public", f"{BRIEF}: up to 1 M neurons per chip"),
    "synapses_per_chip": ("public", f"{BRIEF}: up to 120 M synapses per chip (a maximum, reached with the "
                          "smallest weight formats)"),
    "neurons_per_core": ("assumed", "not public for Loihi 2; assumed 2^20 / 128 (chip neurons / cores). "
                         "Loihi 1: 1024 (nengo-loihi block.py MAX_COMPARTMENTS)"),
    "synapse_bits_per_core": ("assumed", "not public for Loihi 2 (per-core SRAM is 'flexibly partitioned'); "
                              "assumed the Loihi 1 value 16384 x 64-bit words = 128 KiB (nengo-loihi block.py "
                              "MAX_SYNAPSE_BITS)"),
    "in_axons_per_core": ("assumed", "not public for Loihi 2; assumed the Loihi 1 value (nengo-loihi block.py "
                          "MAX_IN_AXONS = 4096). Also the largest fan-in (in axons) one neuron can have without "
                          "splitting its inputs"),
    "max_weight_bits": ("public", "lava-nc 0.10.0 lava/proc/dense: num_weight_bits 'default full 8 bit "
                        "precision', bit-accurate weights LavaPyType(np.int32, precision=8), mixed sign takes one "
                        "of the bits (w_scale = 8 - num_weight_bits + isMixed); lava-dl netx optimize_weight_bits "
                        "<= 8; Loihi 1: 1..8 (nengo-loihi WEIGHT_BITS_MAP)"),
    "synapses_per_block": ("assumed", "Loihi 1 synaptic-memory format (nengo-loihi SynapseConfig.bits_per_axon, "
                           "n_synapses = 63); Loihi 2's format is not public"),
    "block_header_bits": ("assumed", "Loihi 1 format: 4 synapse-index + 6 count bits per block "
                          "(nengo-loihi bits_per_axon)"),
    "memory_word_bits": ("assumed", "Loihi 1 format: blocks rounded up to 64-bit words (nengo-loihi)"),
}

#: the default limits, each with its status and source (keys = :class:`Loihi2Limits` fields)
LIMITS: dict[str, Limit] = {name: Limit(name, getattr(DEFAULT_LIMITS, name), status, source)
                            for name, (status, source) in _SOURCES.items()}

#: the weight widths a synapse block can hold (nengo-loihi SynapseConfig.WEIGHT_BITS_MAP, Loihi 1)
WEIGHT_BITS_CHOICES: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8)


def limits_table(limits: Loihi2Limits = DEFAULT_LIMITS) -> list[dict[str, object]]:
    """One row per limit: name, value in use, status and source (status 'custom' when not the default)."""
    rows = []
    for name, lim in LIMITS.items():
        value = getattr(limits, name)
        status = lim.status if value == lim.value else "custom"
        rows.append({"name": name, "value": value, "status": status, "source": lim.source})
    return rows
