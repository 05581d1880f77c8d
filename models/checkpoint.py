"""snnc checkpoints (docs/design.md §6): a plain dict of tensors and plain values.

Written atomically (temporary file + rename) and read with ``torch.load(weights_only=True)``,
so loading never unpickles arbitrary objects. Any unreadable, truncated or foreign file raises
:class:`SnncError` naming the file and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from snnc.errors import SnncError
from snnc.io import atomic_path

FORMAT = "snnc-checkpoint"
FORMAT_VERSION = 1


def plain(value: Any) -> Any:
    """``value`` as plain Python data (dict, list, str, int, float, bool, None) loadable with
    ``weights_only=True``: str subclasses (e.g. ``torch.__version__``) become str, tuples lists,
    NumPy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"checkpoint metadata value {value!r} is not plain data")


def make_checkpoint(model: nn.Module, *, hparams: dict[str, Any], train_meta: dict[str, Any],
                    test_accuracy: float | None, mean_firing_rate: float | None) -> dict[str, Any]:
    """The checkpoint dict of ``model`` (which must carry ``model.config``)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": plain(model.config),
        "hparams": plain(hparams),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "train": plain(train_meta),
        "test_accuracy": None if test_accuracy is None else float(test_accuracy),
        "mean_firing_rate": None if mean_firing_rate is None else float(mean_firing_rate),
    }


def save_checkpoint(path: str | os.PathLike, model: nn.Module, *, hparams: dict[str, Any],
                    train_meta: dict[str, Any], test_accuracy: float | None = None,
                    mean_firing_rate: float | None = None) -> Path:
    """Write ``model`` as an snnc checkpoint to ``path`` atomically; returns the path."""
    ckpt = make_checkpoint(model, hparams=hparams, train_meta=train_meta, test_accuracy=test_accuracy,
                           mean_firing_rate=mean_firing_rate)
    with atomic_path(path, "checkpoint") as tmp:
        torch.save(ckpt, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The validated checkpoint dict at ``path`` (no model is built)."""
    name = str(path)
    p = Path(path)
    if not p.is_file():
        raise SnncError(f"{name}: no such checkpoint file")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many types for bad files
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SnncError(f"{name}: not a readable checkpoint ({reason[:200]})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise SnncError(f"{name}: not an snnc checkpoint (no 'format': '{FORMAT}' entry)")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise SnncError(f"{name}: unsupported checkpoint format_version {ckpt.get('format_version')!r} "
                        f"(this snnc reads {FORMAT_VERSION})")
    for key, kind in (("config", dict), ("state_dict", dict)):
        if not isinstance(ckpt.get(key), kind):
            raise SnncError(f"{name}: checkpoint entry {key!r} is missing or not a {kind.__name__}")
    return ckpt


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, checkpoint dict) from an snnc checkpoint file."""
    from snnc.models.registry import build_model

    ckpt = read_checkpoint(path)
    try:
        model = build_model(ckpt["config"])
    except SnncError as e:
        raise SnncError(f"{path}: {e}") from None
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as e:
        lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(e).__name__)  # names the tensor
        more = f"; {len(lines) - 2} more" if len(lines) > 2 else ""
        raise SnncError(f"{path}: weights do not match the model config ({detail[:240]}{more})") from None
    return model.eval(), ckpt
