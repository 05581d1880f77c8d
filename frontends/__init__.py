"""snnc.frontends: snnc checkpoints, released ASA-SNN checkpoints and NIR files -> the snnc IR.

``load_graph(path)`` dispatches on the file's content (docs/design.md §4). Importing this
package does not import torch; the checkpoint frontends import it when used.
"""

from __future__ import annotations

from typing import Any


def load_graph(path: Any, convention: str | None = None):
    """The verified IR of ``path``: an snnc checkpoint, a released ASA-SNN state_dict or a .nir file
    (``convention``: the exporting framework's, docs/interop.md)."""
    from snnc.frontends.loader import load_graph as _load

    return _load(path, convention=convention)


def model_to_graph(model: Any, input_shape: Any = None, dt: float = 1e-3):
    """The IR of an snnc PyTorch network (see :mod:`snnc.frontends.torch_model`)."""
    from snnc.frontends.torch_model import model_to_graph as _m2g

    return _m2g(model, input_shape=input_shape, dt=dt)


__all__ = ["load_graph", "model_to_graph"]
