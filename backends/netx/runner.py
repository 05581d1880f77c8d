"""Run a NetX file in lava-dl 0.6.0's own ``netx.hdf5.Network`` on ``Loihi2SimCfg(select_tag="fixed_pt")``.

Samples run back to back in one Lava run, with NetX's staggered reset (``reset_interval=T``,
``reset_offset=1``): block k (depth d = k + 1) sets u, v to 0 at the start of window step d of every
sample, the step sample m's frame 0 reaches it, so its spikes at steps m·T + d … m·T + d + T − 1 are
exactly snnc timing (no synaptic delay, all state 0 at t = 0) of sample m, biases included. One run is
N·T + D steps (D = the number of blocks: the last sample's drain). The stock processes are fed by a
``RingBuffer`` source and recorded by one ``RingBuffer`` sink per block (NumPy in, NumPy out).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from snnc.backends.lava import compat_dl
from snnc.backends.lava.layout import frames_to_lava
from snnc.errors import SnncError


def run_file(path: str | Path, doc: dict, x: np.ndarray, *, staggered: bool = True
             ) -> tuple[dict[str, np.ndarray], list[str]]:
    """(per-block spikes {snnc neuron name: [N, T, *shape CHW]}, the Lava process classes NetX built as
    ``module.Class``) of the NetX file ``path`` (sidecar ``doc``) on frames ``x`` [N, T, *input shape].

    ``staggered=False`` loads the file as NetX does by default (no reset: Lava timing, one step of delay
    per block) and returns every step of one sample's run as it happened: ``x`` must hold one sample."""
    compat_dl.install()  # before any lava import: netx imports lava.proc eagerly
    from lava.lib.dl import netx
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    n, T = int(x.shape[0]), int(x.shape[1])
    D = int(doc["depth"]) if staggered else 0
    if not staggered and n != 1:
        raise SnncError(f"x: without the staggered reset NetX runs one sample at a time, got {n}")
    frames = np.concatenate([np.asarray(x).reshape((n * T,) + x.shape[2:]), np.zeros((D,) + x.shape[2:])])
    if doc["input"]["layout"] == "CHW-flat":
        frames = frames.reshape(len(frames), -1)
    steps = n * T + D
    net = netx.hdf5.Network(net_config=str(path), reset_interval=T if staggered else None, reset_offset=1,
                            input_message_bits=int(doc["input"]["message_bits"]))
    net.net_config.f.close()  # NetDict never closes the file it reads
    source = Source(data=frames_to_lava(frames).astype(np.int32))
    source.s_out.connect(net.inp)
    sinks = []
    for layer in net.layers:
        sink = Sink(shape=layer.out.shape, buffer=steps)
        layer.out.connect(sink.a_in)
        sinks.append(sink)
    try:
        net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        data = [s.data.get() for s in sinks]
    finally:
        net.stop()
    classes = sorted({f"{type(p).__module__}.{type(p).__name__}" for layer in net.layers
                      for p in (layer.synapse, layer.neuron)})
    if len(data) != len(doc["blocks"]):
        raise SnncError(f"{path}: NetX built {len(data)} blocks, the sidecar lists {len(doc['blocks'])}")
    out: dict[str, np.ndarray] = {}
    for block, got in zip(doc["blocks"], data):
        got = np.moveaxis(np.asarray(got), -1, 0)  # (steps, W, H, C) or (steps, F)
        got = got.transpose(0, 3, 2, 1) if got.ndim == 4 else got
        d = int(block["depth"]) if staggered else 0
        out[block["neuron"]] = np.stack([got[m * T + d: m * T + d + T] for m in range(n)]).astype(np.float32)
    return out, classes


def run(graph, x: np.ndarray, *, timing: str = "snnc", record_voltage: bool = False):
    """SimResult of ``graph`` run as NetX (written to a temporary file); snnc timing only. NetX blocks expose
    spikes only: ``record_voltage`` records nothing (``voltages`` stays empty)."""
    from snnc.backends.netx import NETWORK, write_netx
    from snnc.backends.result import SimResult

    if timing != "snnc":
        raise SnncError(f"timing {timing!r}: the netx backend reads every block out at its own depth, which is "
                        "snnc timing; run it with timing 'snnc' (snnc simulate --timing snnc)")
    with tempfile.TemporaryDirectory(prefix="snnc-netx-") as tmp:
        path = Path(tmp) / NETWORK
        doc = write_netx(graph, path)
        spikes, classes = run_file(path, doc, np.asarray(x))
    last = doc["blocks"][-1]["neuron"]
    return SimResult(spikes=spikes, output=spikes[last], timing="snnc", numerics="fixed",
                     extras={"netx": {"depth": doc["depth"], "blocks": doc["blocks"], "processes": classes}})
