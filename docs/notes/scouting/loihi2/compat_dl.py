"""PROTOTYPE (scratch, not snnc code): make lava-dl 0.6.0's ``lava.lib.dl.netx`` importable on
Python 3.11 + CPU torch 2.13.0, without torchvision and without editing site-packages.

Two fixes, both import hooks on ``sys.meta_path``:

1. lava-nc 0.10.0's ``lava.magma.compiler.var_model`` dataclass defaults (the existing
   ``backends/lava/compat.py`` VarModelFinder; here reused from a verbatim copy). NOTE: netx imports
   ``lava.proc.*`` which imports var_model *eagerly* (unlike snnc's lazy path), so this hook must be
   installed before ``import lava.lib.dl.netx``, not just before the first compile.
2. ``lava/lib/dl/slayer/__init__.py`` ends with ``from . import object_detection as obd``;
   ``object_detection/boundingbox/utils.py`` imports ``cv2``, ``PIL`` and ``torchvision``
   (PyPI's torchvision is a CUDA build that cannot load beside the CPU torch). netx never uses
   ``obd``. :class:`ObjectDetectionBlocker` serves that one dotted name as an empty placeholder
   module whose attribute access raises ImportError with the reason, so ``lava.lib.dl.slayer``
   (and therefore ``netx``) imports, and any real use of ``slayer.obd`` fails loudly, not silently.
   The placeholder has no ``__path__``, so ``import lava.lib.dl.slayer.object_detection.x`` fails too.

Usage: ``import compat_dl; compat_dl.install(); from lava.lib.dl import netx``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

import compat_lava_copy  # verbatim copy of /work/main/backends/lava/compat.py (3462a21)

BLOCKED = "lava.lib.dl.slayer.object_detection"
REASON = ("lava-dl's slayer.object_detection needs torchvision/cv2/PIL, which snnc does not install "
          "(PyPI's torchvision is a CUDA build that cannot load beside the CPU torch); "
          "it is kept from importing by snnc's compat hook")


class _Placeholder(types.ModuleType):
    """Module object for the blocked subpackage: exists, but every attribute lookup fails."""

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
    """Serves ``lava.lib.dl.slayer.object_detection`` as a placeholder; steps aside for all else."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != BLOCKED:
            return None
        return importlib.util.spec_from_loader(fullname, _PlaceholderLoader(), origin="snnc-compat")


def install() -> None:
    """Idempotent: the var_model fix and the object_detection blocker, both at the front."""
    compat_lava_copy.install()
    if not any(isinstance(f, ObjectDetectionBlocker) for f in sys.meta_path):
        sys.meta_path.insert(0, ObjectDetectionBlocker())


if __name__ == "__main__":
    install()
    import time
    t0 = time.time()
    from lava.lib.dl import netx  # noqa: F401
    print("netx imported in %.2f s" % (time.time() - t0))
    print("torchvision in sys.modules:", "torchvision" in sys.modules)
    print("cv2 in sys.modules:", "cv2" in sys.modules, "| PIL:", "PIL" in sys.modules)
    import lava.lib.dl.slayer as slayer
    print("slayer.obd is placeholder:", type(slayer.obd).__name__)
    try:
        slayer.obd.bbox
    except ImportError as e:
        print("slayer.obd.bbox ->", str(e)[:80], "...")
    mods = sorted(m.split(".")[0] for m in sys.modules if not m.startswith(("_", "lava")))
    third = sorted(set(mods) & {"torch", "h5py", "scipy", "matplotlib", "numpy", "PIL", "cv2",
                                 "ninja", "pytest", "unittest2", "torchvision", "sklearn",
                                 "networkx", "asteval"})
    print("third-party top-level modules loaded:", third)
