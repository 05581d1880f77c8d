"""What lava-dl's own NIR converter accepts, on the five NIR reference graphs (docs/results.md §10; not a test).

lava-dl has no NIR code in the 0.6.0 wheel nor on main (HEAD d825ac5). The only ``nir_lava.py`` is in the
unmerged PR #218 (refs/pull/218/head = 7fcf390, 2023-08-25). It is third-party code and never part of snnc:
fetch it into a scratch folder yourself, then run this script with the project's environment (which has
lava-dl 0.6.0; snnc's import hook keeps slayer's torchvision-only subpackage from importing):

  mkdir -p /tmp/pr218 && git --git-dir=<mirror of lava-nc/lava-dl> show 7fcf390:src/lava/lib/dl/netx/nir_lava.py \
      > /tmp/pr218/nir_lava.py
  OMP_NUM_THREADS=1 PR218=/tmp/pr218 .venv/bin/python bench/nir_lava_comparison.py

For each graph: nir.read (nir 1.0.8) -> nir_to_lavadl_net(graph) -> (if accepted) export_hdf5 ->
netx.hdf5.Network(...). Prints one line per graph; then the same with nodes renumbered 0..n-1.
The snnc column of the table comes from ``snnc compile <graph> --target netx`` (docs/results.md §10).
"""
import os
import sys
import tempfile
import traceback

from snnc.backends.lava import compat_dl

compat_dl.install()
sys.path.insert(0, os.environ.get("PR218", "/tmp/pr218"))

import nir  # noqa: E402
import numpy as np  # noqa: E402
import nir_lava  # noqa: E402  (PR #218 file, unchanged)
from lava.lib.dl import netx  # noqa: E402

REF = "/work/shared/nir-reference"
GRAPHS = ["01_lif/lif_norse.nir", "01_lif/two_lif_neurons.nir", "02_cnn/cnn_sinabs.nir",
          "03_rnn/braille_noDelay_bias_zero.nir", "03_rnn/braille_noDelay_noBias_subtract.nir"]


def last_frame(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{os.path.basename(tb.filename)}:{tb.lineno}"


for rel in GRAPHS:
    graph = nir.read(os.path.join(REF, rel))
    kinds = sorted({type(n).__name__ for n in graph.nodes.values()})
    try:
        net = nir_lava.nir_to_lavadl_net(graph)
    except Exception as exc:  # noqa: BLE001 - we report every refusal
        print(f"{rel}\t{kinds}\tREFUSED\t{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
              f" ({last_frame(exc)})")
        continue
    path = os.path.join(tempfile.mkdtemp(), "net.h5")
    net.export_hdf5(path)
    try:
        lava_net = netx.hdf5.Network(net_config=path)
        print(f"{rel}\t{kinds}\tACCEPTED\tnetx layers={len(lava_net)}")
    except Exception as exc:  # noqa: BLE001
        print(f"{rel}\t{kinds}\tCONVERTED, netx load failed\t{type(exc).__name__}: {exc}")


def renumbered(graph: "nir.NIRGraph") -> "nir.NIRGraph":
    """Same graph, nodes renamed '0'..'n-1' in topological order, edges sorted (sidesteps the
    converter's int(node_key) and edge-order assumptions, to see the next, structural refusal)."""
    order, seen = [], set()
    preds = {k: [s for s, d in graph.edges if d == k] for k in graph.nodes}
    while len(order) < len(graph.nodes):
        progressed = False
        for k in graph.nodes:
            if k not in seen and all(p in seen or p == k for p in preds[k]):
                order.append(k); seen.add(k); progressed = True
        if not progressed:  # a cycle: append the rest in file order
            order += [k for k in graph.nodes if k not in seen]; break
    idx = {k: i for i, k in enumerate(order)}
    nodes = {str(idx[k]): graph.nodes[k] for k in order}
    edges = sorted((idx[s], idx[d]) for s, d in graph.edges)
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


print("--- with nodes renumbered 0..n-1 in topological order (int edges):")
for rel in GRAPHS:
    graph = renumbered(nir.read(os.path.join(REF, rel)))
    try:
        net = nir_lava.nir_to_lavadl_net(graph)
        print(f"{rel}\tACCEPTED (blocks={len(net.blocks)})")
    except Exception as exc:  # noqa: BLE001
        print(f"{rel}\tREFUSED\t{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
              f" ({last_frame(exc)})")
