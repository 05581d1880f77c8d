"""Regenerate tests/data/interop/snntorch/: snnTorch 1.0.0 networks exported with snnTorch's own NIR exporter
(``snntorch.export_nir.export_to_nir``) and snnTorch's own step-by-step spikes, per spiking layer.

Never run by the tests. Run by hand in a scratch environment (not a dependency of snnc):

    python3.11 -m venv /work/scratch/interop/venv-snntorch
    /work/scratch/interop/venv-snntorch/bin/pip install torch==2.13.0 snntorch==1.0.0 norse==1.1.0 \
        nir==1.0.8 nirtorch==2.6 numpy==1.26.4 h5py
    OMP_NUM_THREADS=1 /work/scratch/interop/venv-snntorch/bin/python tests/data/interop/generate_snntorch.py

Writes, per network ``<name>``: ``<name>.nir`` (the exporter's file, unchanged), ``<name>.npz`` (``x``
[N, T, *in] float32, and ``spk__<node>`` [N, T, *shape] uint8 per spiking layer, keyed by the NIR node
name nirtorch gave the layer), ``<name>.json`` (versions, layer -> node map, settings).
``dense`` and ``conv`` use snnTorch's defaults (``reset_mechanism="subtract"``, ``reset_delay=True``);
``dense_zero`` is ``dense`` with ``reset_mechanism="zero"`` (NIR's reset; the exporter writes the same file
either way); ``rnn`` has an RLeaky (exported as a ``1.lif`` <-> ``1.w_rec`` cycle, recorded under ``1.lif``).
Seeded weights and inputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nir
import nirtorch
import numpy as np
import snntorch as snn
import snntorch.utils
import torch
from snntorch.export_nir import export_to_nir

from fixture_common import bernoulli_spikes, seed_torch_layers, write_fixture  # noqa: E402 (beside this script)

OUT = Path(__file__).resolve().parent / "snntorch"
T, N = 25, 3


def _leaky(beta: float, th: float, shape: tuple[int, ...], reset: str = "subtract") -> snn.Leaky:
    """Per-neuron beta and threshold: with 0-d ones the exported node has type [] and nir's infer_types fails."""
    return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.full(shape, th), init_hidden=True,
                     reset_mechanism=reset)


def dense_net(reset: str = "subtract") -> torch.nn.Sequential:
    """Linear(12, 8) -> Leaky -> Linear(8, 5) -> Synaptic (exported as LIF and CubaLIF)."""
    return torch.nn.Sequential(
        torch.nn.Linear(12, 8),
        _leaky(0.85, 0.6, (8,), reset),
        torch.nn.Linear(8, 5),
        snn.Synaptic(alpha=torch.full((5,), 0.6), beta=torch.full((5,), 0.8), threshold=torch.full((5,), 0.7),
                     init_hidden=True, reset_mechanism=reset),
    )


def rnn_net() -> torch.nn.Sequential:
    """Linear(12, 8) -> RLeaky(all-to-all Linear(8, 8) with bias) -> Linear(8, 4) -> Leaky (a cycle in NIR)."""
    return torch.nn.Sequential(
        torch.nn.Linear(12, 8),
        snn.RLeaky(beta=torch.full((8,), 0.8), threshold=torch.full((8,), 0.6), linear_features=8, init_hidden=True),
        torch.nn.Linear(8, 4),
        _leaky(0.85, 0.5, (4,)),
    )


def conv_net() -> torch.nn.Sequential:
    """Conv2d(2, 4, 3, pad 1) -> Leaky -> AvgPool2d(2) -> Conv2d(4, 4, 3) -> Leaky -> Flatten -> Linear -> Leaky."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1),
        _leaky(0.9, 0.5, (4, 8, 8)),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(4, 4, 3),
        _leaky(0.7, 0.4, (4, 2, 2)),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 2 * 2, 6),
        _leaky(0.75, 0.5, (6,)),
    )




def _run(net: torch.nn.Sequential, x: torch.Tensor) -> dict[str, np.ndarray]:
    """snnTorch's own forward, step by step, recording every spiking layer's output spikes."""
    rec: dict[str, list] = {}
    hooks = []
    for name, m in net.named_children():
        if isinstance(m, snn.SpikingNeuron):
            name = f"{name}.lif" if isinstance(m, snn.RLeaky) else name  # the exporter's node name (subgraph inlined)
            hooks.append(m.register_forward_hook(
                lambda mod, inp, out, name=name: rec.setdefault(name, []).append(
                    (out[0] if isinstance(out, tuple) else out).detach().clone())))
    snn.utils.reset(net)
    with torch.no_grad():
        for t in range(x.shape[1]):
            net(x[:, t])
    for h in hooks:
        h.remove()
    return {k: torch.stack(v, 1).numpy().astype(np.uint8) for k, v in rec.items()}


def make(name: str, net: torch.nn.Sequential, in_shape: tuple[int, ...], seed: int, gain: float, p: float) -> None:
    seed_torch_layers(net, seed, gain)
    net.eval()
    sample = torch.zeros(1, *in_shape)
    graph = export_to_nir(net, sample, ignore_dims=[0])
    snn.utils.reset(net)
    x = bernoulli_spikes(seed + 1, (N, T, *in_shape), p)
    spikes = _run(net, x)
    info = {
        "framework": "snntorch", "network": name, "python": sys.version.split()[0],
        "versions": {"snntorch": snn.__version__, "torch": torch.__version__, "nir": nir.version,
                     "nirtorch": getattr(nirtorch, "__version__", "2.6"), "numpy": np.__version__},
        "exporter": "snntorch.export_nir.export_to_nir(net, torch.zeros(1, *in_shape), ignore_dims=[0])",
        "T": T, "samples": N, "input_shape": list(in_shape), "input": f"Bernoulli(p={p}) spikes, seed {seed + 1}",
        "layers": {k: k for k in spikes},
        "spike_counts": {k: int(v.sum()) for k, v in spikes.items()},
        "graph_nodes": {k: type(v).__name__ for k, v in graph.nodes.items()},
    }
    write_fixture(OUT, name, graph, x, spikes, info)
    print(name, info["spike_counts"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    OUT.mkdir(exist_ok=True)
    make("dense", dense_net(), (12,), seed=1, gain=2.0, p=0.3)
    make("conv", conv_net(), (2, 8, 8), seed=2, gain=2.5, p=0.3)
    make("dense_zero", dense_net("zero"), (12,), seed=1, gain=2.0, p=0.3)  # reset_mechanism="zero": NIR's reset
    make("rnn", rnn_net(), (12,), seed=3, gain=2.0, p=0.3)
