"""NetX tests: lava-dl's netx needs both import hooks (var_model fix, object_detection placeholder) first.

Graph builders live in ``netx_graphs.py`` (a uniquely named module; conftest modules are not imported
by name in this repository).
"""

from __future__ import annotations

from snnc.backends.lava import compat_dl

compat_dl.install()
