"""Backends register by name; their heavy libraries are imported lazily.

A backend is a module exposing ``run(graph, x, *, timing="snnc", record_voltage=False) -> SimResult``
(see docs/design.md §5). The registry maps names to module paths so that listing backends imports
nothing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from snnc.errors import SnncError

_BACKENDS: dict[str, str] = {}


def register_backend(name: str, module: str) -> None:
    """Register backend ``name`` implemented by module path ``module`` (imported on first use)."""
    if name in _BACKENDS and _BACKENDS[name] != module:
        raise ValueError(f"backend {name!r} is already registered by {_BACKENDS[name]}")
    _BACKENDS[name] = module


def list_backends() -> list[str]:
    """Names of the registered backends."""
    return list(_BACKENDS)


def get_backend(name: str) -> ModuleType:
    """Import and return the backend module for ``name``; unknown names give a one-line error."""
    if name not in _BACKENDS:
        raise SnncError(f"unknown backend {name!r}; choose one of: {', '.join(_BACKENDS)}")
    return importlib.import_module(_BACKENDS[name])


register_backend("cpu", "snnc.backends.cpu")
register_backend("lava", "snnc.backends.lava")
register_backend("loihi2", "snnc.backends.loihi2")
register_backend("netx", "snnc.backends.netx")
register_backend("onnx", "snnc.backends.onnx")
