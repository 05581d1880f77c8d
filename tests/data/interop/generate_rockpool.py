"""Regenerate tests/data/interop/rockpool/: Rockpool 3.1.0 networks exported with Rockpool's own NIR exporter
(``rockpool.nn.modules.to_nir``, writing with nir 1.0.4) and Rockpool's own spikes, per spiking layer.

Never run by the tests. Rockpool pins nir <= 1.0.4, so it lives in its own scratch environment:

    python3.11 -m venv /work/scratch/interop/venv-rockpool
    /work/scratch/interop/venv-rockpool/bin/pip install torch==2.13.0 rockpool==3.1.0 numpy==1.26.4
    OMP_NUM_THREADS=1 /work/scratch/interop/venv-rockpool/bin/python tests/data/interop/generate_rockpool.py

Rockpool's exporter maps only LinearTorch, LIFNeuronTorch (LIF), LIFTorch (CubaLIF) and ExpSynTorch (LI):
no convolution, so there are dense networks only. ``dense`` uses ``max_spikes_per_dt=1`` (binary spikes, as
NIR); ``dense_multispike`` keeps Rockpool's default (up to 2^16 spikes per step, ⌊v/θ⌋). Files: ``<name>.nir``
(the exporter's graph as ``nir.write`` 1.0.4 stores it), ``<name>.npz`` (``x`` [N, T, 12] and ``spk__<node>``
per spiking layer, keyed by the NIR node name), ``<name>.json`` (versions, settings).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nir
import numpy as np
import rockpool
import torch
from rockpool.nn.combinators import Sequential
from rockpool.nn.modules import LIFNeuronTorch, LIFTorch, LinearTorch, to_nir

from fixture_common import bernoulli_spikes, write_fixture  # noqa: E402 (beside this script)

OUT = Path(__file__).resolve().parent / "rockpool"
T, N, DT = 25, 3, 1e-3


def dense_net(max_spikes: float | None) -> Sequential:
    """LinearTorch(12, 8) -> LIFNeuronTorch (LIF) -> LinearTorch(8, 5, bias) -> LIFTorch (CubaLIF); dt = 1 ms."""
    extra = {} if max_spikes is None else {"max_spikes_per_dt": torch.tensor(float(max_spikes))}
    return Sequential(
        LinearTorch((12, 8), has_bias=False),
        LIFNeuronTorch((8,), tau_mem=torch.full((8,), 8e-3), threshold=torch.full((8,), 0.6), dt=DT, **extra),
        LinearTorch((8, 5), has_bias=True),
        LIFTorch((5,), tau_mem=torch.full((5,), 6e-3), tau_syn=torch.full((5,), 4e-3),
                 threshold=torch.full((5,), 0.5), dt=DT, **extra),
    )


def _seeded(net, seed: int, gain: float) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules().values() if isinstance(net.modules(), dict) else net.modules():
            if isinstance(m, LinearTorch):
                m.weight.data = torch.randn(m.weight.shape, generator=g) * gain / np.sqrt(m.weight.shape[0])
                if m.bias is not None:
                    m.bias.data = torch.randn(m.bias.shape, generator=g) * 0.1


def _run(net: Sequential, x: torch.Tensor, names: list[str]) -> dict[str, np.ndarray]:
    """Rockpool's own evolution, layer by layer over the window (the network is feed-forward)."""
    spikes: dict[str, np.ndarray] = {}
    z = x
    with torch.no_grad():
        for i, mod in enumerate(net):
            mod.reset_state()
            z, _, _ = mod(z)
            if isinstance(mod, (LIFNeuronTorch, LIFTorch)):
                spikes[names[i]] = z.detach().numpy().astype(np.uint8)
    return spikes


def make(name: str, max_spikes: float | None, seed: int, gain: float, p: float) -> None:
    net = dense_net(max_spikes)
    _seeded(net, seed, gain)
    graph = to_nir(net)
    layer_nodes = [n for n in graph.nodes if n not in ("input", "output")]
    x = bernoulli_spikes(seed + 1, (N, T, 12), p)
    spikes = _run(net, x, layer_nodes)
    info = {
        "framework": "rockpool", "network": name, "python": sys.version.split()[0],
        "versions": {"rockpool": rockpool.__version__, "torch": torch.__version__, "nir": nir.version,
                     "numpy": np.__version__},
        "exporter": "rockpool.nn.modules.to_nir(net)", "dt": DT, "max_spikes_per_dt": max_spikes,
        "T": T, "samples": N, "input_shape": [12], "input": f"Bernoulli(p={p}) spikes, seed {seed + 1}",
        "spike_counts": {k: int(v.sum()) for k, v in spikes.items()},
        "max_spikes_per_step": {k: int(v.max()) for k, v in spikes.items()},
        "graph_nodes": {k: type(v).__name__ for k, v in graph.nodes.items()},
        "graph_edges": sorted(list(e) for e in graph.edges),
    }
    write_fixture(OUT, name, graph, x, spikes, info)
    print(name, info["spike_counts"], info["max_spikes_per_step"], info["graph_nodes"], info["graph_edges"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    OUT.mkdir(exist_ok=True)
    make("dense", 1, seed=31, gain=1.5, p=0.3)
    make("dense_multispike", None, seed=31, gain=1.5, p=0.3)
