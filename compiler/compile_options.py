"""``CompileOptions``: what ``snnc compile`` was asked for, checked, and the pass list it selects.

The compile use case itself (load, calibrate, passes, fidelity, artifact directory) is
:mod:`snnc.compile_model` in the app layer; the options are compiler facts (targets, passes,
granularities), so they live here and the app, the manifest reader and the tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from snnc.compiler.passes.fuse_asa_gains import DEFAULT_GRANULARITY, GRANULARITIES
from snnc.compiler.pipeline import TARGETS, parse_pass_list, select_passes
from snnc.errors import SnncError


#: how the float graph runs of a compile (calibration, probes, the fidelity reference) convolve: "auto" event-driven
#: where a conv's inputs are sparse (float32 sums in another order than PyTorch's), "dense" PyTorch's own conv
#: (bit-identical to the model). Manifests written before the option existed mean "dense".
FLOAT_CONVS = ("auto", "dense")


@dataclass
class CompileOptions:
    target: str
    passes: str | None = None
    calibrate: int = 64
    holdout: int = 64
    asa_mode: str = "fused"
    gain_granularity: str | None = None  # None: default_granularity(target)
    fixed_point: bool | None = None  # None: True for lava, False otherwise
    clip_weights: bool = False
    data: str = "synthetic"
    seed: int = 0
    T: int | None = None  # steps per sample: --T, else the --data file's, else metadata["snnc"]["T"]
    dt: float | None = None  # seconds per step: --dt, else metadata["snnc"]["dt"] (required when neurons need it)
    convention: str | None = None  # --convention: the exporting framework's deviations (snnc.frontends.conventions)
    float_conv: str = "auto"  # --float-conv: the float runs' convolutions (FLOAT_CONVS; docs/design.md §5)

    def __post_init__(self) -> None:
        if self.gain_granularity is None:
            self.gain_granularity = default_granularity(self.target)

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise SnncError(f"--target: unknown target {self.target!r}; choose one of {', '.join(TARGETS)}")
        if self.calibrate < 0:
            raise SnncError(f"--calibrate: must be >= 0 samples, got {self.calibrate}")
        if self.T is not None and self.T < 1:
            raise SnncError(f"--T: must be at least 1 step, got {self.T}")
        if self.dt is not None and not self.dt > 0:
            raise SnncError(f"--dt: must be > 0 seconds, got {self.dt}")
        if self.holdout < 0:
            raise SnncError(f"--holdout: must be >= 0, got {self.holdout}")
        if self.asa_mode not in ("fused", "exact"):
            raise SnncError(f"--asa-mode: must be 'fused' or 'exact', got {self.asa_mode!r}")
        if self.float_conv not in FLOAT_CONVS:
            raise SnncError(f"--float-conv: must be one of {', '.join(FLOAT_CONVS)}, got {self.float_conv!r}")
        if self.gain_granularity not in GRANULARITIES:
            raise SnncError(f"--gain-granularity: must be one of {', '.join(GRANULARITIES)}, "
                            f"got {self.gain_granularity!r}")
        if self.target == "netx":  # NetX: Loihi's integer LIF, no per-step input gain (backends/netx)
            _check_netx(self)
        if self.target == "lava" and self.asa_mode == "exact":
            raise SnncError("--asa-mode exact: the lava target cannot run ASA exactly (non-causal in time); "
                            "use --asa-mode fused")

    def pass_names(self) -> list[str]:
        """The pass list; an error of the pipeline module names the flag that chose the value."""
        if self.passes:
            return _flagged(parse_pass_list, self.passes)
        fixed = self.fixed_point if self.fixed_point is not None else self.target in ("lava", "netx", "loihi2")
        return _flagged(select_passes, self.target, asa_mode=self.asa_mode, fixed_point=fixed)


def default_granularity(target: str) -> str:
    """The ASA gain granularity a target gets unless one is asked for: ``c`` for netx and loihi2 (their LIF has
    no per-step input gain, so the gains are folded into the weights), ``DEFAULT_GRANULARITY`` otherwise."""
    return "c" if target in ("netx", "loihi2") else DEFAULT_GRANULARITY


def _check_netx(opts: CompileOptions) -> None:
    """What a NetX file cannot express, refused before any work: float numerics, exact ASA, per-step gains."""
    if opts.fixed_point is False:
        raise SnncError("--float: --target netx writes Loihi's fixed-point LIF; drop --float (or use --target lava)")
    if opts.asa_mode == "exact":
        raise SnncError("--asa-mode exact: NetX cannot run ASA (needs the whole window); use --asa-mode fused")
    if opts.gain_granularity != "c":
        raise SnncError(f"--gain-granularity {opts.gain_granularity}: NetX's LIF has no per-step input gain; "
                        "use c (per-channel gains folded into the weights, the netx default)")


#: the flag of ``snnc compile`` that sets each value the pipeline module names in its errors
_FLAGS = {"passes": "--passes", "fixed_point": "--fixed-point", "target": "--target"}


def _flagged(choose: Callable[..., list[str]], *args: Any, **kwargs: Any) -> list[str]:
    """``choose(*args, **kwargs)``; its SnncError "value: problem" is re-raised as "--flag: problem"."""
    try:
        return choose(*args, **kwargs)
    except SnncError as e:
        value, _, problem = str(e).partition(":")
        if type(e) is not SnncError or value not in _FLAGS:
            raise
        raise SnncError(f"{_FLAGS[value]}:{problem}") from None
