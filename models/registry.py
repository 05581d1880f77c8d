"""Model registry: ``build_model(config)`` for the snnc model names, and the demo config.

A config is a dict of keyword arguments; missing keys take the model's defaults, and the
returned model's ``config`` holds the complete dict (what a checkpoint stores).
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from snnc.errors import SnncError
from snnc.models import lif_snn3, lif_snn5, res_snn18
from snnc.models.attention import check_attention_options

_BUILDERS: dict[str, tuple[Callable[[dict], nn.Module], dict[str, Any]]] = {
    "lif-snn-3": (lif_snn3.build_lif_snn3, lif_snn3.DEFAULTS),
    "lif-snn-5": (lif_snn5.build_lif_snn5, lif_snn5.DEFAULTS),
    "res-snn-18": (res_snn18.build_res_snn18, res_snn18.DEFAULTS),
}

#: the valid ``config["model"]`` values
MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)


def _plain(value: Any) -> Any:
    """Tuples -> lists, so that configs compare equal after a checkpoint round trip."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def complete_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the model's defaults filled in; validated (SnncError on bad values)."""
    name = str(config.get("model", "lif-snn-3")).lower()
    if name not in _BUILDERS:
        raise SnncError(f"model {name!r}: unknown model; valid names: {', '.join(MODEL_NAMES)}")
    defaults = _BUILDERS[name][1]
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise SnncError(f"model {name!r}: unknown config keys {unknown}; valid: {sorted(defaults)}")
    full = {k: _plain(v) for k, v in {**defaults, **config, "model": name}.items()}
    if not isinstance(full["T"], int) or isinstance(full["T"], bool) or full["T"] <= 0:
        raise SnncError(f"T: must be a positive integer, got {full['T']!r}")
    problem = check_attention_options(full)
    if problem:
        raise SnncError(problem)
    _check_numbers(full)
    if any(int(w) <= 0 for w in full["widths"]) or int(full["num_classes"]) <= 0:
        raise SnncError(f"model {name!r}: widths and num_classes must be positive")
    return full


#: refuse configs whose network would hold more parameters than this (absurd sizes in a bad file)
MAX_PARAMETERS = 2**28
#: upper bounds of the integer sizes of a config (a malformed checkpoint must not allocate terabytes)
_SIZE_LIMITS = {"T": 4096, "in_channels": 4096, "num_classes": 1_000_000, "fc_hidden": 1_000_000}


def _check_numbers(full: dict[str, Any]) -> None:
    """Finite floats in range and bounded integer sizes (SnncError naming the key)."""
    import math

    for key, limit in _SIZE_LIMITS.items():
        v = full.get(key)
        if key in full and (not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= limit):
            raise SnncError(f"{key}: must be an integer in [1, {limit}], got {v!r}")
    for key in ("widths", "input_size"):
        v = full.get(key)
        if key in full and (not isinstance(v, list) or not v or
                            not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= 65536 for i in v)):
            raise SnncError(f"{key}: must be a list of integers in [1, 65536], got {v!r}")
    for key, lo, hi in (("beta", 0.0, 1.0), ("v_th", 0.0, math.inf), ("lam", 0.0, 1.0), ("dropout", 0.0, 1.0)):
        if key in full:
            v = full[key]
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi
            if key == "beta" and ok and v >= 1.0:
                ok = False  # decay 1 has no leak term: tau = dt/(1 - beta) is infinite
            if not ok:
                span = "[0, 1)" if key == "beta" else f"[{lo}, {hi}]"
                raise SnncError(f"{key}: must be a finite number in {span}, got {v!r}")


def rough_parameters(full: dict[str, Any]) -> int:
    """A generous upper estimate of the parameter count of any snnc network of this config:
    9·(C_in w_0 + Σ w_{i−1} w_i)·4 (3×3 convs, up to 4 per block) + max(w)·H·W·hidden (first FC,
    unpooled) + hidden·classes + 2 T² (ASA)."""
    w = [int(v) for v in full.get("widths", [1])]
    h, wd = (int(v) for v in (list(full.get("input_size", [1, 1])) + [1, 1])[:2])
    hidden, classes, T = int(full.get("fc_hidden", 1)), int(full.get("num_classes", 1)), int(full.get("T", 1))
    convs = 9 * 4 * (int(full.get("in_channels", 1)) * w[0] + sum(a * b for a, b in zip(w, w[1:])))
    return convs + max(w) * h * wd * hidden + hidden * classes + 2 * T * T


def build_model(config: dict[str, Any]) -> nn.Module:
    """Build the network named by ``config["model"]`` (default ``"lif-snn-3"``); configs with
    out-of-range numbers or more than ``MAX_PARAMETERS`` (estimated) parameters are refused."""
    full = complete_config(config)
    _check_numbers(full)
    n = rough_parameters(full)
    if n > MAX_PARAMETERS:
        raise SnncError(f"model {full['model']!r}: the config asks for about {n:,} parameters "
                        f"(> {MAX_PARAMETERS:,}); refusing an absurd size")
    try:
        return _BUILDERS[full["model"]][0](full)
    except ValueError as e:
        raise SnncError(f"model {full['model']!r}: {e}") from None


def demo_config(attention: str = "asa") -> dict[str, Any]:
    """The small LIF-SNN-3 used by ``make demo`` and the tests (synthetic 32x32 data, 8 classes)."""
    return {
        "model": "lif-snn-3", "attention": attention, "T": 8, "in_channels": 2, "input_size": [32, 32],
        "num_classes": 8, "widths": [8, 16, 16], "fc_hidden": 64, "reduction": 2, "lam": 0.5,
        "v_th": 0.3, "beta": 0.3, "dropout": 0.0,
    }


#: training settings of the demo models (the defaults of ``snnc train``)
DEMO_TRAINING: dict[str, Any] = {
    "epochs": 6, "batch_size": 32, "lr": 5e-4, "train_samples": 800, "test_samples": 400,
}
