"""Golden-file regression of spike statistics (``snnc regress``, the ``snnc_regress`` pytest fixture).

``regress(artifact, golden, ...)`` runs an artifact on a fixed, seeded input set and compares per-layer,
per-step spike counts and per-synapse synaptic operations with a golden JSON file
(:mod:`snnc.regress.core`, :mod:`snnc.regress.diff`). Importing this package is cheap.
"""

from __future__ import annotations

from typing import Any


def regress(artifact: Any, golden: Any, **kwargs: Any):
    """See :func:`snnc.regress.check.regress`."""
    from snnc.regress.check import regress as _regress

    return _regress(artifact, golden, **kwargs)


__all__ = ["regress"]
