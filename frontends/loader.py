"""``load_graph(path)``: any supported input file -> the snnc IR, dispatching on the file's content.

* HDF5 (``\\x89HDF``): a NIR file (snnc-written or third-party) -> :func:`read_graph`;
* zip or pickle (a torch ``.pt``): read with ``torch.load(weights_only=True)``; an snnc
  checkpoint (``format == "snnc-checkpoint"``, docs/design.md §6) -> :func:`model_to_graph`;
  a released ASA-SNN state_dict -> :func:`released_to_graph`.

The graph is verified and refused (by node name and type, with the supported list) when it holds
a node nobody executes. Every problem is an :class:`SnncError` naming the file.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import nir

from snnc.compiler.ir.serialize import read_graph
from snnc.compiler.ir.verify import verify
from snnc.errors import SnncError, VerifyError

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _prefixed(path: str, e: SnncError) -> SnncError:
    msg = str(e)
    return type(e)(msg if msg.startswith(path) else f"{path}: {msg}")


def _unpickler_reason(message: str) -> str:
    """The specific part of torch's long weights_only error ("Unsupported global: ...", ...)."""
    tail = message.split("WeightsUnpickler error:", 1)[-1]
    lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
    return (lines[0] if lines else "unpickling failed").split(" was not an allowed")[0].split(". ")[0][:160]


def read_torch_file(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)`` with one-line errors (truncated, not torch, unsafe)."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        reason = _unpickler_reason(str(e))
        if "Unsupported global" in reason or "GLOBAL" in reason:
            raise SnncError(f"{path}: refusing to load: the file holds pickled Python objects, not only tensors "
                            f"({reason})") from None
        raise SnncError(f"{path}: not a valid torch checkpoint ({reason})") from None
    except Exception as e:  # noqa: BLE001 - torch raises many types for truncated/foreign files
        first = str(e).strip().splitlines()[0].split(". ")[0] if str(e).strip() else type(e).__name__
        raise SnncError(f"{path}: not a valid or complete torch checkpoint ({first[:160]})") from None


def _load_snnc_checkpoint(path: str):
    from snnc.models.checkpoint import load_checkpoint

    try:
        model, _ = load_checkpoint(path)
    except SnncError as e:
        raise _prefixed(path, e) from None
    return model


def checkpoint_to_graph(path: str | os.PathLike) -> nir.NIRGraph:
    """The IR of a torch file: an snnc checkpoint or a released ASA-SNN state_dict."""
    from snnc.frontends.released import released_state_dict, released_to_graph
    from snnc.frontends.torch_model import model_to_graph

    p = str(path)
    obj = read_torch_file(p)
    if isinstance(obj, dict) and obj.get("format") == "snnc-checkpoint":
        model = _load_snnc_checkpoint(p)
        model.eval()
        try:
            return model_to_graph(model)
        except SnncError as e:
            raise _prefixed(p, e) from None
    sd = released_state_dict(obj, p)
    if sd is not None:
        return released_to_graph(sd, where=p)
    what = type(obj).__name__
    first = next(iter(obj), None) if isinstance(obj, dict) else None
    found = f"first key {first!r} is not a released key" if isinstance(first, str) else f"found a {what}"
    raise SnncError(f"{p}: neither an snnc checkpoint (format 'snnc-checkpoint') nor a released ASA-SNN "
                    f"state_dict ({found})")


def _refuse_foreign_zip(path: Path) -> None:
    """A zip that is not a torch checkpoint (no ``*/data.pkl``), e.g. a NumPy .npz, named as such."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return
    try:
        names = zipfile.ZipFile(path).namelist()
    except (OSError, zipfile.BadZipFile):
        return  # torch reports the damage
    if not any(n.endswith("data.pkl") for n in names):
        what = "a NumPy .npz archive (data for --data)" if any(n.endswith(".npy") for n in names) else "a zip archive"
        raise SnncError(f"{path}: {what}, not a model; expected an snnc .pt checkpoint, a released ASA-SNN "
                        "state_dict or a .nir file")


def load_graph(path: str | os.PathLike, convention: str | None = None) -> nir.NIRGraph:
    """The verified IR of ``path`` (.pt snnc checkpoint, released state_dict, or .nir file).

    ``convention`` (a framework name, .nir files only): run the file as that framework's exporter meant
    it (:func:`snnc.frontends.conventions.apply_convention`, docs/interop.md)."""
    p = Path(path)
    if not p.exists():
        raise SnncError(f"{path}: no such file")
    if not p.is_file():
        raise SnncError(f"{path}: not a file")
    with open(p, "rb") as f:
        head = f.read(8)
    if convention is not None and not head.startswith(HDF5_MAGIC):
        raise SnncError(f"--convention: applies to .nir files written by another framework, not to {path}")
    if head.startswith(HDF5_MAGIC):
        g = read_graph(p)
    elif head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        _refuse_foreign_zip(p)
        g = checkpoint_to_graph(p)
    elif not head:
        raise SnncError(f"{path}: empty file")
    else:
        raise SnncError(f"{path}: unrecognised format (expected a .pt checkpoint or a .nir HDF5 file)")
    if convention is not None:
        from snnc.frontends.conventions import apply_convention

        g = apply_convention(g, convention)
    try:
        verify(g)
    except VerifyError as e:
        raise _prefixed(str(path), e) from None
    except SnncError as e:  # UnsupportedNodeError
        raise _prefixed(str(path), e) from None
    return g
