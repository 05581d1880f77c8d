"""Lava backend tests: install the Python 3.11 import hook before any test imports Lava.

Graph builders live in ``lava_graphs.py`` (a uniquely named module: several ``conftest`` modules
exist in this repository, so they are not imported by name).
"""

from __future__ import annotations

from snnc.backends.lava import compat

compat.install()
