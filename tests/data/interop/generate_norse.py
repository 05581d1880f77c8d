"""Regenerate tests/data/interop/norse/: Norse 1.1.0 networks exported with Norse's own NIR exporter
(``norse.torch.to_nir``) and Norse's own step-by-step spikes, per spiking layer.

Never run by the tests. Run by hand in the scratch environment of generate_snntorch.py (same packages):

    OMP_NUM_THREADS=1 /work/scratch/interop/venv-snntorch/bin/python tests/data/interop/generate_norse.py

Writes per network ``<name>.nir`` (the exporter's graph; its 0-d torch parameters are made numpy arrays
so that ``nir.write`` can store them, and nir's own ``infer_types()`` fills the Conv2d input_shape the
exporter leaves None, as snnTorch's exporter does; nothing else is changed), ``<name>.npz`` (``x`` [N, T, *in] and
``spk__<node>`` per spiking layer, keyed by the NIR node name) and ``<name>.json`` (versions, settings).
Neuron parameters are per-neuron tensors (0-d ones become 0-d NIR arrays, which nir.write refuses).
Norse's ``to_nir`` exports no Flatten (it maps it to None), so the conv network ends in a conv layer.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nir
import norse
import norse.torch as nt
import numpy as np
import torch

from fixture_common import bernoulli_spikes, seed_torch_layers, write_fixture  # noqa: E402 (beside this script)

OUT = Path(__file__).resolve().parent / "norse"
T, N, DT = 25, 3, 1e-3


def _lifbox(shape, tau_inv: float, th: float) -> nt.LIFBoxCell:
    return nt.LIFBoxCell(nt.LIFBoxParameters(tau_mem_inv=torch.full(shape, tau_inv), v_th=torch.full(shape, th),
                                             v_leak=torch.zeros(shape), v_reset=torch.zeros(shape)), dt=DT)


def dense_net() -> nt.SequentialState:
    """Linear -> LIFBoxCell (LIF) -> Linear -> IAFCell (IF) -> Linear -> LIFCell (CubaLIF)."""
    return nt.SequentialState(
        torch.nn.Linear(12, 8), _lifbox((8,), 200.0, 0.3),
        torch.nn.Linear(8, 6), nt.IAFCell(nt.IAFParameters(v_th=torch.full((6,), 0.8), v_reset=torch.zeros(6))),
        torch.nn.Linear(6, 4),
        nt.LIFCell(nt.LIFParameters(tau_syn_inv=torch.full((4,), 300.0), tau_mem_inv=torch.full((4,), 150.0),
                                    v_th=torch.full((4,), 0.2), v_leak=torch.zeros(4), v_reset=torch.zeros(4)),
                   dt=DT),
    )


def conv_net() -> nt.SequentialState:
    """Conv2d(2, 4, 3, pad 1) -> LIFBoxCell -> Conv2d(4, 3, 3, stride 2) -> LIFBoxCell."""
    return nt.SequentialState(
        torch.nn.Conv2d(2, 4, 3, padding=1), _lifbox((4, 8, 8), 250.0, 0.25),
        torch.nn.Conv2d(4, 3, 3, stride=2), _lifbox((3, 3, 3), 150.0, 0.2),
    )




def _run(net: nt.SequentialState, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Norse's own cells, step by step (what SequentialState.forward does), recording each cell's spikes."""
    mods = list(net.named_children())
    states: list = [None] * len(mods)
    rec: dict[str, list] = {}
    with torch.no_grad():
        for t in range(x.shape[1]):
            z = x[:, t]
            for i, (name, m) in enumerate(mods):
                if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                    z = m(z)
                else:
                    z, states[i] = m(z, states[i])
                    rec.setdefault(name, []).append(z.clone())
    return {k: torch.stack(v, 1).numpy().astype(np.uint8) for k, v in rec.items()}


def _numpy_params(graph: nir.NIRGraph) -> nir.NIRGraph:
    for node in graph.nodes.values():
        for k, v in list(vars(node).items()):
            if isinstance(v, torch.Tensor):
                setattr(node, k, v.detach().numpy())
    graph.infer_types()  # fills Conv2d.input_shape (None from the exporter; nir.write cannot store None)
    return graph


def make(name: str, net: nt.SequentialState, in_shape: tuple[int, ...], seed: int, gain: float, p: float) -> None:
    seed_torch_layers(net, seed, gain)
    graph = _numpy_params(nt.to_nir(net, torch.zeros(*in_shape), dt=DT))
    x = bernoulli_spikes(seed + 1, (N, T, *in_shape), p)
    spikes = _run(net, x)
    info = {
        "framework": "norse", "network": name, "python": sys.version.split()[0],
        "versions": {"norse": getattr(norse, "__version__", "1.1.0"), "torch": torch.__version__,
                     "nir": nir.version, "numpy": np.__version__},
        "exporter": f"norse.torch.to_nir(net, torch.zeros(*in_shape), dt={DT}) "
                    "(no batch dimension: the exporter would type the input with it)", "dt": DT,
        "T": T, "samples": N, "input_shape": list(in_shape), "input": f"Bernoulli(p={p}) spikes, seed {seed + 1}",
        "spike_counts": {k: int(v.sum()) for k, v in spikes.items()},
        "graph_nodes": {k: type(v).__name__ for k, v in graph.nodes.items()},
        "graph_edges": sorted(list(e) for e in graph.edges),
    }
    write_fixture(OUT, name, graph, x, spikes, info)
    print(name, info["spike_counts"], info["graph_nodes"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    OUT.mkdir(exist_ok=True)
    make("dense", dense_net(), (12,), seed=11, gain=2.0, p=0.3)
    make("conv", conv_net(), (2, 8, 8), seed=12, gain=2.5, p=0.3)
