"""The portable weight recipe of the released reference cases: entry ``index`` (sorted key order) of ``seed``.

Used by ``regenerate.py`` (in the released code's scratch environment) and by the tests
(``tests/frontends/released_cases.py``), which rebuild the same state_dict without the released code.
Only numpy.
"""

from __future__ import annotations

import numpy as np


def make_array(seed: int, index: int, spec: dict) -> np.ndarray:
    """The array of ``spec`` (shape, dtype, distribution) from ``np.random.default_rng([seed, index])``."""
    rng = np.random.default_rng([seed, index])
    shape = tuple(spec["shape"])
    if spec["dist"] == "normal":
        a = rng.normal(spec["mean"], spec["std"], shape)
    elif spec["dist"] == "uniform":
        a = rng.uniform(spec["low"], spec["high"], shape)
    else:
        a = np.full(shape, spec["value"])
    return a.astype(spec["dtype"])
