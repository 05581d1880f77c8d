"""Node and metadata builders shared by the checkpoint frontends (docs/design.md §3.2–3.3).

A PyTorch LIF with decay beta, input gain g and threshold theta (reset to 0) is

    LIF(tau = dt / (1 - beta), r = g / (1 - beta), v_leak = 0, v_threshold = theta, v_reset = 0)

so that a = dt/tau = 1 - beta and a·r = g: the Euler step is v = beta·v + g·I. The exact float32
beta and g the model uses go to ``metadata["snnc"]`` (the simulator uses them, bit-exact).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import nir

DEFAULT_DT = 1e-3
BETA_TAU = "tau = dt/(1-beta), r = 1/(1-beta), v_leak = 0"


def f32(a: Any) -> np.ndarray:
    """``a`` (tensor, array or number) as a float32 NumPy array, at least 1-D."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    arr = np.array(a, dtype=np.float32, copy=True)
    return arr.reshape(1) if arr.ndim == 0 else arr


def lif_node(beta: float, gain: float, v_th: float, shape: tuple[int, ...], dt: float = DEFAULT_DT) -> nir.LIF:
    """The NIR LIF population of ``shape`` for a PyTorch LIF (beta, gain, v_th, reset to 0)."""
    beta32, gain32 = np.float32(beta), np.float32(gain)
    a = 1.0 - float(beta32)
    if not 0.0 < a <= 1.0:
        raise ValueError(f"LIF decay beta={float(beta32)} must be in [0, 1)")
    full = lambda v: np.full(tuple(shape), v, dtype=np.float32)  # noqa: E731
    node = nir.LIF(tau=full(dt / a), r=full(float(gain32) / a), v_leak=full(0.0), v_threshold=full(np.float32(v_th)),
                   v_reset=full(0.0))
    node.metadata = {"snnc": {"beta": beta32, "gain": gain32}}
    return node


def graph_metadata(*, T: int, readout: dict, model: dict | None, dt: float = DEFAULT_DT, extra: dict | None = None) -> dict:
    """``graph.metadata`` for a graph made from a checkpoint (docs/design.md §3.2)."""
    snnc: dict[str, Any] = {
        "format": 1, "dt": float(dt), "T": int(T), "threshold": ">=", "reset": "zero", "beta_tau": BETA_TAU,
        "numerics": "float", "readout": dict(readout), "input_layout": "NTCHW",
    }
    if model is not None:
        snnc["model"] = dict(model)
    if extra:
        snnc.update(extra)
    return {"snnc": snnc}
