"""PROTOTYPE: Loihi 2 resource estimate per layer (the model proposed in FINDINGS.md §5), for LIF-SNN-3
at demo size and paper size, after snnc's fuse_pooling (conv3x3 + avgpool2 -> conv4x4 stride 2).

Every limit is a parameter with its source. Cores per layer = the smallest k such that, with the
layer's output neurons split evenly over k cores (conv: by output channel groups, then space):
neurons/core <= NEURONS_PER_CORE and synaptic memory/core <= SYNMEM_BITS_PER_CORE.
Axon limits are reported (utilisation) and flagged, not used for splitting (the split that would
fix them depends on the mapper, not public for Loihi 2).

Synaptic memory model (nengo-loihi 1.1 block.py SynapseConfig.bits_per_axon, dense format
'compression=3', n_synapses=63, 8-bit weights): an axon carrying n weights costs, per chunk of up
to 64 weights, ceil((8 n_c + 4 + 6) / 64) 64-bit words.
 - dense layer on a core with m post neurons: in_features axons x bits_per_axon(m);
 - conv layer (population axons, one shared kernel copy per core; ASSUMPTION: Loihi 2's
   'convolutional network compression' stores the kernel once per core, no border variants):
   C_in axon weight sets x bits_per_axon(kh*kw*C_out_core).

Run: cd /work/scratch/loihi2 && python3 resource_table.py   (standard library only)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

LIMITS = {
    # name: (value, source, status)
    "CORES_PER_CHIP": (128, "Intel, 'Taking Neuromorphic Computing to the Next Level with Loihi 2' "
                            "(Technology Brief, 2021): 128 neuromorphic cores", "public"),
    "NEURONS_PER_CHIP": (1_000_000, "same brief: up to 1 M neurons per chip", "public"),
    "SYNAPSES_PER_CHIP": (120_000_000, "same brief: up to 120 M synapses per chip", "public"),
    "NEURONS_PER_CORE": (8192, "ASSUMPTION: 2^20/128 (chip total / cores); Loihi 1: 1024 "
                               "(Davies et al. 2018; nengo-loihi MAX_COMPARTMENTS)", "assumed"),
    "SYNMEM_BITS_PER_CORE": (16384 * 64, "ASSUMPTION: Loihi 1 value 16384 x 64-bit words = 128 KiB "
                                         "(nengo-loihi MAX_SYNAPSE_BITS); Loihi 2 per-core SRAM is "
                                         "'flexibly partitioned', split not public", "assumed"),
    "IN_AXONS_PER_CORE": (4096, "ASSUMPTION: Loihi 1 value (nengo-loihi MAX_IN_AXONS)", "assumed"),
    "OUT_AXONS_PER_CORE": (4096, "ASSUMPTION: Loihi 1 value (nengo-loihi MAX_OUT_AXONS)", "assumed"),
    "WEIGHT_BITS": (8, "Lava 0.10.0 Dense num_weight_bits default 8; netx optimize_weight_bits <= 8",
                    "public (Lava source)"),
}
L = {k: v[0] for k, v in LIMITS.items()}


def bits_per_axon(n_weights: int, weight_bits: int = 8) -> int:
    """nengo-loihi SynapseConfig.bits_per_axon, compression=3 (dense), 64 synapses per block."""
    bits = 0
    for i in range(0, n_weights, 64):
        n = min(n_weights - i, 64)
        bits += -64 * (-(n * weight_bits + 4 + 6) // 64)
    return bits


@dataclass
class Layer:
    name: str
    kind: str            # conv | dense
    c_in: int
    h_in: int
    w_in: int
    c_out: int
    k: int = 1
    stride: int = 1
    pad: int = 0

    @property
    def out_hw(self) -> tuple[int, int]:
        if self.kind == "dense":
            return 1, 1
        f = lambda n: (n + 2 * self.pad - self.k) // self.stride + 1  # noqa: E731
        return f(self.h_in), f(self.w_in)

    @property
    def neurons(self) -> int:
        h, w = self.out_hw
        return self.c_out * h * w

    @property
    def fan_in(self) -> int:
        return self.c_in * self.k * self.k if self.kind == "conv" else self.c_in * self.h_in * self.w_in

    @property
    def fan_out(self) -> int:  # post neurons one input spike reaches (interior)
        if self.kind == "dense":
            return self.c_out
        return self.c_out * math.ceil(self.k / self.stride) ** 2

    def mem_bits(self, cores: int) -> int:
        """Synaptic memory on the busiest core when split over `cores`."""
        if self.kind == "dense":
            return self.fan_in * bits_per_axon(math.ceil(self.c_out / cores))
        c_groups = min(cores, self.c_out)
        c_core = math.ceil(self.c_out / c_groups)
        return self.c_in * bits_per_axon(self.k * self.k * c_core)

    def stored_weights(self, cores: int) -> int:
        if self.kind == "dense":
            return self.fan_in * self.c_out
        return cores * self.c_in * self.k * self.k * math.ceil(self.c_out / min(cores, self.c_out))

    def cores(self) -> int:
        k = 1
        while (math.ceil(self.neurons / k) > L["NEURONS_PER_CORE"]
               or self.mem_bits(k) > L["SYNMEM_BITS_PER_CORE"]):
            k += 1
        return k

    def in_axons(self) -> int:  # conv: population axons, one per input pixel; dense: one per input
        return self.h_in * self.w_in if self.kind == "conv" else self.fan_in


def lif_snn3(widths, fc, classes, in_ch=2, hw=32) -> list[Layer]:
    w0, w1, w2 = widths
    return [Layer("conv1 3x3", "conv", in_ch, hw, hw, w0, 3, 1, 1),
            Layer("conv2 3x3+avgpool2 -> 4x4/s2", "conv", w0, hw, hw, w1, 4, 2, 1),
            Layer("conv3 3x3+avgpool2 -> 4x4/s2", "conv", w1, hw // 2, hw // 2, w2, 4, 2, 1),
            Layer("fc1", "dense", w2, hw // 4, hw // 4, fc),
            Layer("fc2", "dense", fc, 1, 1, classes)]


def table(title: str, layers: list[Layer]) -> None:
    print(f"\n### {title}\n")
    print("| layer | neurons | fan-in | fan-out | synapses (logical) | weights stored | "
          "syn. mem / core (bits) | in-axons / core | cores |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    tot = dict(n=0, logical=0, stored=0, cores=0)
    flags = []
    for ly in layers:
        c = ly.cores()
        logical = ly.neurons * ly.fan_in
        stored = ly.stored_weights(c)
        ax = ly.in_axons()
        if ax > L["IN_AXONS_PER_CORE"]:
            flags.append(f"{ly.name}: {ax} in-axons per core > {L['IN_AXONS_PER_CORE']} (assumed limit)")
        print(f"| {ly.name} | {ly.neurons:,} | {ly.fan_in:,} | {ly.fan_out:,} | {logical:,} | {stored:,} | "
              f"{ly.mem_bits(c):,} | {ax:,} | {c} |")
        tot["n"] += ly.neurons
        tot["logical"] += logical
        tot["stored"] += stored
        tot["cores"] += c
    chips = math.ceil(tot["cores"] / L["CORES_PER_CHIP"])
    fits = (tot["cores"] <= L["CORES_PER_CHIP"] and tot["n"] <= L["NEURONS_PER_CHIP"]
            and tot["stored"] <= L["SYNAPSES_PER_CHIP"] and not flags)
    print(f"| **total** | {tot['n']:,} | | | {tot['logical']:,} | {tot['stored']:,} | | | "
          f"**{tot['cores']}** |")
    print(f"\nchips: {chips}; fits one chip: {fits}" + ("; flags: " + "; ".join(flags) if flags else ""))


if __name__ == "__main__":
    print("limits:")
    for k, (v, src, status) in LIMITS.items():
        print(f"- {k} = {v:,} [{status}] {src}")
    table("LIF-SNN-3 demo (widths 8/16/16, FC 64, 8 classes, input 2x32x32)",
          lif_snn3((8, 16, 16), 64, 8))
    table("LIF-SNN-3 paper (widths 64/128/128, FC 256, 11 classes, input 2x32x32)",
          lif_snn3((64, 128, 128), 256, 11))
