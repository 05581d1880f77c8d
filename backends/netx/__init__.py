"""The NetX target and backend (``"netx"``): a compiled fixed-point graph as lava-dl 0.6.0's NetX HDF5.

``snnc compile --target netx`` writes ``netx/network.net`` (the HDF5 ``lava.lib.dl.netx.hdf5.Network``
loads) and ``netx/netx.json`` (which snnc node each block's spikes are, its pipeline depth, how to feed
the input) into the artifact. The file is built from the Lava spec (:func:`snnc.backends.lava.lower.lower`)
by :mod:`.blocks` (chain check, pool fusion, layouts) and written by :mod:`.writer` with h5py alone:
writing never imports lava-dl or torch. ``run(graph, x, timing="snnc")`` writes the file to a temporary
directory and runs it in lava-dl's own ``netx.hdf5.Network`` (:mod:`.runner`, lava-dl imported there,
after :mod:`snnc.backends.lava.compat_dl`).
"""

from __future__ import annotations

from pathlib import Path

import nir

from snnc.errors import SnncError

SUBDIR = "netx"
NETWORK = "network.net"
SIDECAR = "netx.json"


def netx_of(graph: nir.NIRGraph) -> dict:
    """The NetX blocks of a compiled fixed-point graph; SnncError/UnsupportedNodeError naming node and way out."""
    from snnc.backends.lava.lower import lower
    from snnc.backends.netx.blocks import netx_blocks
    from snnc.compiler.ir.graph_utils import node_kind
    from snnc.errors import UnsupportedNodeError

    reset = ((graph.metadata or {}).get("snnc") or {}).get("reset", "zero")
    if reset != "zero":
        first = next((f"{n!r} ({node_kind(v)})" for n, v in graph.nodes.items()
                      if node_kind(v) in ("LIF", "IF", "LoihiLIF", "CubaLIF")), "the graph")
        raise UnsupportedNodeError(f"netx: node {first} resets by {reset} (metadata reset {reset!r}, e.g. IF nodes "
                                   "of a nir < 1.0.6 file); NetX's CUBA LIF resets to zero; way out: --target lava "
                                   "--float or --target cpu")
    try:
        spec = lower(graph)
    except SnncError as e:
        msg = str(e)
        raise type(e)("netx: " + (msg[len("lava: "):] if msg.startswith("lava: ") else msg)) from None
    return netx_blocks(spec)


def write_netx(graph: nir.NIRGraph, path: str | Path) -> dict:
    """Write the NetX HDF5 of ``graph`` to ``path`` atomically (snnc.io); returns the sidecar dict."""
    from snnc.backends.netx.writer import describe, write_h5
    from snnc.io import atomic_path

    net = netx_of(graph)
    with atomic_path(path) as tmp:
        index = write_h5(tmp, net)
    T = ((graph.metadata or {}).get("snnc") or {}).get("T")
    return describe(net, index, Path(path).name, T)


def write_netx_artifact(graph: nir.NIRGraph, directory: str | Path) -> dict:
    """``directory/netx/network.net`` + ``netx.json`` (the compile use case calls it inside its atomic dir)."""
    from snnc.backends.netx.writer import dumps
    from snnc.io import atomic_path

    folder = Path(directory) / SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    doc = write_netx(graph, folder / NETWORK)
    with atomic_path(folder / SIDECAR) as tmp:
        tmp.write_text(dumps(doc))
    return doc


def run(graph, x, *, timing: str = "snnc", record_voltage: bool = False, **options):
    """Run ``graph`` as a NetX network in lava-dl on a batch ``x`` [N, T, *in_shape]; see :func:`.runner.run`."""
    from snnc.backends.netx.runner import run as _run

    return _run(graph, x, timing=timing, record_voltage=record_voltage, **options)


__all__ = ["netx_of", "write_netx", "write_netx_artifact", "run"]
