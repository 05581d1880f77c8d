"""Regenerate tests/data/interop/spyx/: Spyx 1.0.0 (JAX / flax.nnx) networks exported with Spyx's own NIR
exporter (``spyx.nir.to_nir``) and Spyx's own step-by-step spikes, per spiking layer.

Never run by the tests. Run by hand in a scratch environment (not a dependency of snnc):

    python3.11 -m venv /work/scratch/interop/venv-spyx
    /work/scratch/interop/venv-spyx/bin/pip install --only-binary=:all: spyx==1.0.0 nir==1.0.8
    OMP_NUM_THREADS=1 /work/scratch/interop/venv-spyx/bin/python tests/data/interop/generate_spyx.py

(pip resolves jax/jaxlib 0.10.2, flax 0.12.8, numpy 2.4.6 on CPU.) Spyx is channels-last: its conv layers take
[B, H, W, C]. The fixture stores everything in NIR's channels-first layout: ``x`` [N, T, C, H, W] (Spyx is fed
its transpose) and ``spk__<node>`` [N, T, C, H, W] (Spyx's [N, T, H, W, C] transposed back), keyed by the NIR
node name. Files: ``<name>.nir`` (the exporter's graph, unchanged), ``<name>.npz``, ``<name>.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import nir
import numpy as np
import spyx
from flax import nnx
from spyx.nir import to_nir
from spyx.nn import IF, LIF, CuBaLIF, Flatten, Sequential, SumPool

OUT = Path(__file__).resolve().parent / "spyx"
T, N = 25, 3


def dense_net(rngs: nnx.Rngs) -> Sequential:
    """Linear(12, 8) -> LIF -> Linear(8, 6) -> IF -> Linear(6, 4) -> CuBaLIF (NIR LIF, IF, CubaLIF)."""
    return Sequential(nnx.Linear(12, 8, rngs=rngs), LIF((8,), beta=0.8, threshold=0.6, rngs=rngs),
                      nnx.Linear(8, 6, rngs=rngs), IF((6,), threshold=0.8),
                      nnx.Linear(6, 4, rngs=rngs), CuBaLIF((4,), alpha=0.7, beta=0.85, threshold=0.5, rngs=rngs))


def conv_net(rngs: nnx.Rngs) -> Sequential:
    """Conv(2, 4, 3, SAME) -> LIF -> SumPool 2 -> Conv(4, 4, 3, VALID) -> IF -> Flatten -> Linear(16, 5) -> LIF."""
    return Sequential(nnx.Conv(2, 4, (3, 3), padding="SAME", rngs=rngs),
                      LIF((8, 8, 4), beta=0.9, threshold=0.5, rngs=rngs),
                      SumPool((2, 2), (2, 2), "VALID"),
                      nnx.Conv(4, 4, (3, 3), padding="VALID", rngs=rngs), IF((2, 2, 4), threshold=1.0),
                      Flatten(), nnx.Linear(16, 5, rngs=rngs), LIF((5,), beta=0.75, threshold=0.5, rngs=rngs))


def _seeded(net: Sequential, seed: int, gain: float) -> None:
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if isinstance(layer, (nnx.Linear, nnx.Conv)):
            k = layer.kernel[...]
            fan_in = int(np.prod(k.shape[:-1]))
            layer.kernel[...] = jnp.asarray(rng.standard_normal(k.shape).astype(np.float32) * gain / np.sqrt(fan_in))
            layer.bias[...] = jnp.asarray(rng.standard_normal(layer.bias.shape).astype(np.float32) * 0.1)


def _run(net: Sequential, x_last: np.ndarray) -> dict[int, np.ndarray]:
    """Spyx's own layers, step by step (what ``Sequential.__call__`` does), recording each neuron layer."""
    state = net.initial_state(x_last.shape[0])
    rec: dict[int, list] = {}
    for t in range(x_last.shape[1]):
        z = jnp.asarray(x_last[:, t])
        new_state = []
        for i, (layer, s) in enumerate(zip(net.layers, state)):
            if s is not None:
                z, s = layer(z, s)
                rec.setdefault(i, []).append(np.asarray(z))
            else:
                z = layer(z)
            new_state.append(s)
        state = new_state
    return {i: np.stack(v, 1) for i, v in rec.items()}


def _to_first(a: np.ndarray) -> np.ndarray:
    """[N, T, H, W, C] -> [N, T, C, H, W]; 1-D layers unchanged."""
    return a.transpose(0, 1, 4, 2, 3) if a.ndim == 5 else a


def make(name: str, build, in_shape: tuple[int, ...], out_n: int, seed: int, gain: float, p: float) -> None:
    net = build(nnx.Rngs(seed))
    _seeded(net, seed, gain)
    graph = to_nir(net, {"input": np.array(in_shape)}, {"output": np.array([out_n])}, dt=1)
    nir.write(str(OUT / f"{name}.nir"), graph)
    x = (np.random.default_rng(seed + 1).random((N, T, *in_shape)) < p).astype(np.float32)
    x_last = x.transpose(0, 1, 3, 4, 2) if x.ndim == 5 else x
    rec = _run(net, x_last)
    spikes = {f"layer_{i}": _to_first(v).astype(np.uint8) for i, v in rec.items()}
    np.savez_compressed(OUT / f"{name}.npz", x=x, **{f"spk__{k}": v for k, v in spikes.items()})
    info = {
        "framework": "spyx", "network": name, "python": sys.version.split()[0],
        "versions": {"spyx": spyx.__version__ if hasattr(spyx, "__version__") else "1.0.0", "jax": jax.__version__,
                     "nir": nir.version, "numpy": np.__version__},
        "exporter": "spyx.nir.to_nir(net, {'input': in_shape}, {'output': [n]}, dt=1)",
        "T": T, "samples": N, "input_shape": list(in_shape), "input": f"Bernoulli(p={p}) spikes, seed {seed + 1}",
        "spike_counts": {k: int(v.sum()) for k, v in spikes.items()},
        "graph_nodes": {k: type(v).__name__ for k, v in graph.nodes.items()},
    }
    (OUT / f"{name}.json").write_text(json.dumps(info, indent=1) + "\n")
    print(name, info["spike_counts"], info["graph_nodes"])


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    make("dense", dense_net, (12,), 4, seed=41, gain=2.0, p=0.3)
    make("conv", conv_net, (2, 8, 8), 5, seed=42, gain=2.5, p=0.3)
