"""lava-dl 0.6.0 on Python 3.11 with the CPU torch: one more import hook (never a site-packages edit).

``lava.lib.dl.netx`` imports ``lava.lib.dl.slayer``, whose ``__init__`` ends with
``from . import object_detection as obd``; ``object_detection/boundingbox/utils.py`` imports
``cv2``, ``PIL`` and ``torchvision``. snnc installs none of them for lava-dl (PyPI's torchvision
is a CUDA build that cannot load beside the CPU torch: ``libc10_cuda.so`` missing), and NetX never
uses ``obd``. :class:`ObjectDetectionBlocker` serves exactly the dotted name
``lava.lib.dl.slayer.object_detection`` as a placeholder module: it has no ``__path__`` (its
submodules cannot import) and any attribute lookup raises ``ImportError`` naming the reason, so a
real use fails loudly instead of silently.

netx also imports ``lava.proc.*`` *eagerly*, which imports lava-nc's ``var_model`` at import time:
so :func:`install` installs :mod:`.compat`'s var_model fix as well, and must run before any
``import lava.lib.dl...`` (the NetX tests' conftest calls it). snnc's NetX *writer* imports neither
(h5py only), so ``snnc compile --target netx`` never imports lava-dl or torch for the file itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import types

from snnc.backends.lava import compat

BLOCKED = "lava.lib.dl.slayer.object_detection"
REASON = ("lava-dl's slayer.object_detection needs torchvision/cv2/PIL, which snnc does not install "
          "(PyPI's torchvision is a CUDA build that cannot load beside the CPU torch); it is kept from "
          "importing by snnc.backends.lava.compat_dl")


class _Placeholder(types.ModuleType):
    """The blocked subpackage: it exists, but every (non-dunder) attribute lookup fails."""

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise ImportError(f"{BLOCKED}.{name}: {REASON}")


class _PlaceholderLoader(importlib.abc.Loader):
    def create_module(self, spec):
        module = _Placeholder(spec.name)
        module.__doc__ = REASON
        return module

    def exec_module(self, module) -> None:  # nothing to run
        return None


class ObjectDetectionBlocker(importlib.abc.MetaPathFinder):
    """Serves ``lava.lib.dl.slayer.object_detection`` as a placeholder; steps aside for every other name."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != BLOCKED:
            return None
        return importlib.util.spec_from_loader(fullname, _PlaceholderLoader(), origin="snnc-compat-dl")


def install() -> None:
    """Idempotent: lava-nc's var_model fix and the object_detection placeholder, both at the front."""
    compat.install()
    if not installed():
        sys.meta_path.insert(0, ObjectDetectionBlocker())


def installed() -> bool:
    """Whether the blocker is on ``sys.meta_path``."""
    return any(isinstance(f, ObjectDetectionBlocker) for f in sys.meta_path)
