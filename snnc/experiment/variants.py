"""The variants of the supplement's comparisons and ablations, and the numbers the supplement publishes.

Every variant is the demo LIF-SNN-3 (or the released size with ``--size paper``) with one attention
setting changed from the ASA base (squeeze s5, excitation mlp, r = 2: the supplement's choice, §S3):

- Table S3 / S1 (attention modules): vanilla, TA, CA, SA, TCSA, ASA;
- Table S7 (squeeze): s5, s7, s8;  Table S8 (excitation): mlp, eca ("CID"), simam;
- Table S9 (reduction r): 1, 2, 4.

Published values: DVS128 Gesture, LIF-SNN-3, dt = 15 ms, T = 60 (the supplement's ablation
setting, Tables S7–S9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ASA_BASE: dict[str, Any] = {"attention": "asa", "squeeze": "s5", "excitation": "mlp", "reduction": 2}


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def config(self, base: dict[str, Any]) -> dict[str, Any]:
        """``base`` (a model config) with the ASA base options and this variant's overrides."""
        return {**base, **ASA_BASE, **self.overrides}


VARIANTS: tuple[Variant, ...] = (
    Variant("vanilla", "vanilla SNN", {"attention": "none"}),
    Variant("ta", "TA", {"attention": "ta"}),
    Variant("ca", "CA", {"attention": "ca"}),
    Variant("sa", "SA", {"attention": "sa"}),
    Variant("tcsa", "TCSA", {"attention": "tcsa"}),
    Variant("asa", "ASA (s5, mlp, r = 2)"),
    Variant("asa-s7", "ASA, squeeze Eq. S7 (avg)", {"squeeze": "s7"}),
    Variant("asa-s8", "ASA, squeeze Eq. S8 (½(avg + max))", {"squeeze": "s8"}),
    Variant("asa-eca", "ASA, excitation CID (ECA 1-D conv)", {"excitation": "eca"}),
    Variant("asa-simam", "ASA, excitation SimAM", {"excitation": "simam"}),
    Variant("asa-r1", "ASA, r = 1", {"reduction": 1}),
    Variant("asa-r4", "ASA, r = 4", {"reduction": 4}),
)
BY_NAME = {v.name: v for v in VARIANTS}

#: table -> [(row label, variant name, published value)]; the ablation values are accuracies (%)
TABLES: dict[str, list[tuple[str, str, float | None]]] = {
    "S7": [("Eq. S5 (hybrid, α/γ)", "asa", 95.2), ("Eq. S7 (avg, SE)", "asa-s7", 93.4),
           ("Eq. S8 (½(avg+max), CBAM)", "asa-s8", 94.8)],
    "S8": [("2-layer MLP (Eq. S6)", "asa", 95.2), ("CID (ECA-style)", "asa-eca", 93.8), ("SimAM", "asa-simam", 92.7)],
    "S9": [("r = 1", "asa-r1", 95.2), ("r = 2", "asa", 95.2), ("r = 4", "asa-r4", 94.4)],
}
#: Table S3 (Gesture): variant -> (energy per sample in mJ, r_REC); TA/CA/SA are not in the table
TABLE_S3: dict[str, tuple[float, float | None] | None] = {
    "vanilla": (1.314, None), "ta": None, "ca": None, "sa": None, "tcsa": (0.536, -0.592), "asa": (0.314, -0.761),
}
#: official README (Gesture, LIF-SNN-3): variant -> (accuracy %, NASFR)
MAIN_RESULTS: dict[str, tuple[float, float]] = {"vanilla": (91.3, 0.176), "asa": (95.2, 0.038)}


def select(names: list[str] | None) -> list[Variant]:
    """The variants named (all when None), vanilla always first (every r_REC is against it)."""
    if not names:
        return list(VARIANTS)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; valid: {', '.join(BY_NAME)}")
    chosen = set(names) | {"vanilla"}
    return [v for v in VARIANTS if v.name in chosen]
