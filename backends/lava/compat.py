"""Python 3.11 compatibility of lava-nc 0.10.0, fixed by one import hook (never by editing site-packages).

lava-nc 0.10.0 declares ``Requires-Python <3.11``. On 3.11 exactly one module fails:
``lava/magma/compiler/var_model.py`` gives eight dataclass fields (``CoreEncoder.x/y/p``,
``ChipEncoder.x/y/z``, ``AxonEncoder.hi/lo``) a *default instance* of the unhashable dataclass
``ByteEncoder``; since 3.11 ``dataclasses`` rejects such defaults (``ValueError: mutable default
... use default_factory``). Lava's compiler imports the module lazily, so the error surfaces at the
first ``proc.run(...)``.

:func:`install` puts a meta-path finder in front of ``sys.meta_path`` that, for that one dotted
name only, loads the original file's source with each ``name: ByteEncoder = ByteEncoder()``
rewritten to ``name: ByteEncoder = dataclasses.field(default_factory=ByteEncoder)`` and registers
the result under its dotted name (``__file__`` still points at the original file). If the source
has no such default (a fixed Lava, or Python <3.11 users who patched it) the hook steps aside and
the normal import runs unchanged. :func:`install` must run before the first Lava *compile*;
:mod:`snnc.backends.lava` calls it before importing anything from Lava.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys

TARGET = "lava.magma.compiler.var_model"
_DEFAULT = re.compile(r"^(\s+\w+\s*:\s*ByteEncoder\s*=\s*)ByteEncoder\(\)\s*$", re.MULTILINE)
_REPLACEMENT = r"\1__import__('dataclasses').field(default_factory=ByteEncoder)"


def patch_source(source: str) -> tuple[str, int]:
    """(patched source, number of defaults rewritten); 0 means the source needs no fix."""
    return _DEFAULT.subn(_REPLACEMENT, source)


class _PatchedLoader(importlib.abc.Loader):
    """Executes the rewritten source of the target module."""

    def __init__(self, source: str, origin: str) -> None:
        self.source, self.origin = source, origin

    def create_module(self, spec):  # default module creation
        return None

    def exec_module(self, module) -> None:
        code = compile(self.source, self.origin, "exec")
        exec(code, module.__dict__)


class VarModelFinder(importlib.abc.MetaPathFinder):
    """Finds ``lava.magma.compiler.var_model`` and serves it with the 3.11 dataclass fix."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin:
            return None
        with open(spec.origin, encoding="utf-8") as f:
            source, count = patch_source(f.read())
        if count == 0:  # already fixed: let the normal loader import it
            return None
        patched = importlib.util.spec_from_loader(fullname, _PatchedLoader(source, spec.origin),
                                                  origin=spec.origin)
        patched.has_location = True
        return patched


def install() -> None:
    """Install the finder once (idempotent). Harmless when Lava is fixed or absent."""
    if not any(isinstance(f, VarModelFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, VarModelFinder())


def installed() -> bool:
    """Whether the finder is on ``sys.meta_path``."""
    return any(isinstance(f, VarModelFinder) for f in sys.meta_path)
