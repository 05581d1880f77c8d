"""Regenerate tests/data/interop/sinabs/: Sinabs 3.1.3 networks exported with Sinabs' own NIR exporter
(``sinabs.nir.to_nir``, which writes NIR files with nir 1.0.4) and Sinabs' own spikes, per spiking layer.

Never run by the tests. Sinabs pins nir <= 1.0.4, so it lives in its own scratch environment:

    python3.11 -m venv /work/scratch/interop/venv-sinabs
    /work/scratch/interop/venv-sinabs/bin/pip install torch==2.13.0 sinabs==3.1.3 numpy==1.26.4
    OMP_NUM_THREADS=1 /work/scratch/interop/venv-sinabs/bin/python tests/data/interop/generate_sinabs.py

(pip resolves nir 1.0.4, nirtorch 2.0.2.) Writes per network ``<name>.nir`` (the exporter's graph, as
``nir.write`` 1.0.4 stores it), ``<name>.npz`` (``x`` [N, T, *in] and ``spk__<node>`` [N, T, *shape] per
spiking layer, keyed by the NIR node name) and ``<name>.json`` (versions, settings).
``dense`` and ``conv`` use ``spike_fn=SingleSpike`` (binary spikes, as NIR); ``dense_multispike`` keeps
Sinabs' default ``MultiSpike`` (several spikes per step), which no NIR node expresses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nir
import numpy as np
import sinabs
import sinabs.layers as sl
import torch
from sinabs.activation import MultiSpike, SingleSpike
from sinabs.nir import to_nir

from fixture_common import bernoulli_spikes, seed_torch_layers, write_fixture  # noqa: E402 (beside this script)

OUT = Path(__file__).resolve().parent / "sinabs"
T, N = 25, 3


def dense_net(spike_fn=SingleSpike) -> torch.nn.Sequential:
    """Linear(12, 8) -> LIF(tau_mem 6 steps) -> Linear(8, 5) -> IAF (exported as LIF and IF)."""
    return torch.nn.Sequential(
        torch.nn.Linear(12, 8),
        sl.LIFSqueeze(tau_mem=torch.full((8,), 6.0), spike_threshold=torch.full((8,), 0.25), spike_fn=spike_fn,
                      batch_size=N),
        torch.nn.Linear(8, 5),
        sl.IAFSqueeze(spike_threshold=torch.full((5,), 1.0), spike_fn=spike_fn, batch_size=N),
    )


def conv_net() -> torch.nn.Sequential:
    """Conv2d(2, 4, 3, pad 1) -> IAF -> SumPool2d(2) -> Conv2d(4, 4, 3) -> LIF -> Flatten -> Linear(16, 5) -> IAF."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1),
        sl.IAFSqueeze(spike_threshold=torch.full((4, 8, 8), 1.0), spike_fn=SingleSpike, batch_size=N),
        sl.SumPool2d(2),
        torch.nn.Conv2d(4, 4, 3),
        sl.LIFSqueeze(tau_mem=torch.full((4, 2, 2), 4.0), spike_threshold=torch.full((4, 2, 2), 0.3),
                      spike_fn=SingleSpike, batch_size=N),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 5),
        sl.IAFSqueeze(spike_threshold=torch.full((5,), 1.0), spike_fn=SingleSpike, batch_size=N),
    )




def _run(net: torch.nn.Sequential, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Sinabs' own forward over the whole window ([N*T, ...], batch-major), recording each spiking layer."""
    rec: dict[str, torch.Tensor] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, name=name: rec.__setitem__(name, out.detach().clone()))
             for name, m in net.named_children() if isinstance(m, sinabs.layers.StatefulLayer)]
    sinabs.reset_states(net)
    with torch.no_grad():
        net(x.reshape(N * T, *x.shape[2:]))
    for h in hooks:
        h.remove()
    return {k: v.reshape(N, T, *v.shape[1:]).numpy().astype(np.uint8) for k, v in rec.items()}


def _numpy_params(graph: nir.NIRGraph) -> nir.NIRGraph:
    """Torch tensors -> numpy (nir.write 1.0.4 cannot store tensors); nir's infer_types() fills the Conv2d
    input_shape and Flatten input_type the exporter leaves None. Nothing else changes."""
    for node in graph.nodes.values():
        for k, v in list(vars(node).items()):
            if isinstance(v, torch.Tensor):
                setattr(node, k, v.detach().numpy())
    graph.infer_types()
    return graph


def make(name: str, net: torch.nn.Sequential, in_shape: tuple[int, ...], seed: int, gain: float, p: float) -> None:
    seed_torch_layers(net, seed, gain)
    graph = _numpy_params(to_nir(net, torch.zeros(N * T, *in_shape)))
    x = bernoulli_spikes(seed + 1, (N, T, *in_shape), p)
    spikes = _run(net, x)
    info = {
        "framework": "sinabs", "network": name, "python": sys.version.split()[0],
        "versions": {"sinabs": sinabs.__version__, "torch": torch.__version__, "nir": nir.version,
                     "numpy": np.__version__},
        "exporter": "sinabs.nir.to_nir(net, torch.zeros(N * T, *in_shape))",
        "T": T, "samples": N, "input_shape": list(in_shape), "input": f"Bernoulli(p={p}) spikes, seed {seed + 1}",
        "spike_counts": {k: int(v.sum()) for k, v in spikes.items()},
        "max_spikes_per_step": {k: int(v.max()) for k, v in spikes.items()},
        "graph_nodes": {k: type(v).__name__ for k, v in graph.nodes.items()},
    }
    write_fixture(OUT, name, graph, x, spikes, info)
    print(name, info["spike_counts"], info["max_spikes_per_step"], info["graph_nodes"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    OUT.mkdir(exist_ok=True)
    make("dense", dense_net(), (12,), seed=21, gain=3.0, p=0.3)
    make("conv", conv_net(), (2, 8, 8), seed=22, gain=2.5, p=0.3)
    make("dense_multispike", dense_net(MultiSpike), (12,), seed=21, gain=3.0, p=0.3)
