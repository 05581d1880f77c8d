"""The seeded input frames snnc makes when the user names no data: one generator, and the default T.

:func:`default_frames` is the one place that decides what "no data" means for a graph:

* a graph whose input is :data:`SYNTHETIC_SHAPE` (2×32×32, the snnc networks) gets the synthetic DVS
  gestures of the split (:func:`snnc.data.stream.synthetic_frames`; labelled);
* any other input shape (a third-party NIR graph) gets Bernoulli events of that shape
  (:func:`snnc.data.stream.bernoulli_frames`; no labels).

Each use case names its own density and seed stream, and they differ for recorded reasons:

=============================  ========  =========================  ==============================
use case                       density   Bernoulli seed             why
=============================  ========  =========================  ==============================
``snnc simulate``              0.1       ``seed``                   --seed as given
``snnc compile`` fallback      0.1       ``[seed, split stream]``   calibration and hold-out differ
``snnc regress``               0.2       ``[seed, 0x5EED]``         recorded in every golden file
=============================  ========  =========================  ==============================

The number of steps when neither ``--T``, the data file nor the graph's metadata names one is
:data:`DEFAULT_T` (simulate). ``snnc regress`` records its own, :data:`REGRESS_DEFAULT_T`, in each golden
file's ``inputs.T``; the golden files of third-party graphs (no T in their metadata) were recorded with it,
so it stays 16 until they are re-recorded.
"""

from __future__ import annotations

from snnc.data.stream import Frames, bernoulli_frames, synthetic_frames

#: steps per sample when nothing names T (``snnc simulate``)
DEFAULT_T = 10
#: steps per sample of ``snnc regress`` when the graph names no T (recorded in the golden files)
REGRESS_DEFAULT_T = 16
#: the input of the snnc networks: 2 polarities × 32 × 32 (DVS128 Gesture binned 4×4)
SYNTHETIC_SHAPE = (2, 32, 32)


def default_frames(shape: tuple[int, ...], split: str, n: int, T: int, *, density: float, seed: int,
                   bernoulli_seed=None) -> tuple[Frames, str]:
    """(frames [n, T, *shape], description) of :func:`default_frames`'s rule (module docstring).

    ``seed`` seeds the synthetic gestures; ``bernoulli_seed`` (default ``seed``) seeds the Bernoulli draw
    ``default_rng(bernoulli_seed).random((n, T, *shape)) < density``."""
    shape = tuple(int(s) for s in shape)
    if shape == SYNTHETIC_SHAPE:
        return synthetic_frames(split, n, int(T), seed), f"synthetic DVS gestures ({split} split)"
    rng_seed = seed if bernoulli_seed is None else bernoulli_seed
    return (bernoulli_frames(n, int(T), shape, density, rng_seed),
            f"random binary events, density {density} (graph input {list(shape)})")
