"""Loihi 2 target tests: install the Python 3.11 import hook before any test imports Lava."""

from __future__ import annotations

from snnc.backends.lava import compat

compat.install()
