"""snnc's SnncNeuron process == Lava's stock LIF, step for step, on the same random input currents.

Both are fed directly by RingBuffers (no synapse), so every spike and v must be identical, in
fixed_pt (bit-accurate, including u wrap) and floating_pt. With a window (T, pad) shorter than the
run, the second window starts from a reset state: it equals the stock LIF run on that window alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.lava import compat

compat.install()
pytestmark = pytest.mark.lava


def _run(tag: str, a: np.ndarray, stock_input: np.ndarray, params: dict, window: tuple[int, int]):
    """(our spikes, our v) from the Extractor and (stock spikes, stock v) from Monitors, one run."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.extractor import Extractor, PyLoihiExtractorModel
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor

    from snnc.backends.lava.lavaprocs.neuron import PySnncNeuronFixed, PySnncNeuronFloat, SnncNeuron

    n, steps = a.shape
    fixed = tag == "fixed_pt"
    cast = (lambda d: d.astype(np.int32)) if fixed else (lambda d: d.astype(np.float64))
    stock = LIF(shape=(n,), **params)
    ours = SnncNeuron(shape=(n,), window=window, record_voltage=True, **params)
    RingBuffer(data=cast(stock_input)).s_out.connect(stock.a_in)
    RingBuffer(data=cast(a)).s_out.connect(ours.a_in)
    ext = Extractor(shape=ours.rec.shape, buffer_size=steps + 1)
    ours.rec.connect(ext.in_port)
    sink = Sink(shape=(n,), buffer=1)  # joins the two sub-networks into one run
    stock.s_out.connect(sink.a_in)
    ours.s_out.connect(sink.a_in)
    mon_v, mon_s = Monitor(), Monitor()
    mon_v.probe(stock.v, steps)
    mon_s.probe(stock.s_out, steps)
    cfg = Loihi2SimCfg(select_tag=tag, exception_proc_model_map={
        Extractor: PyLoihiExtractorModel, SnncNeuron: PySnncNeuronFixed if fixed else PySnncNeuronFloat})
    stock.run(condition=RunSteps(num_steps=steps, blocking=False), run_cfg=cfg)
    try:
        rec = np.stack([ext.receive() for _ in range(steps)])
        stock.wait()
        v = np.asarray(mon_v.get_data()[stock.name]["v"])
        s = np.asarray(mon_s.get_data()[stock.name]["s_out"])
    finally:
        stock.stop()
    return rec[:, :n], rec[:, n:], s, v


def _params(tag: str, rng, n: int) -> tuple[dict, np.ndarray]:
    if tag == "fixed_pt":
        params = dict(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)), vth=int(rng.integers(10, 900)),
                      bias_mant=rng.integers(-300, 300, n), bias_exp=rng.integers(0, 7, n))
        return params, rng.integers(-(1 << 17), 1 << 17, (n, 30))  # u wraps
    return dict(du=0.3, dv=0.2, vth=1.5, bias_mant=rng.normal(0, 0.1, n), bias_exp=0), rng.normal(0.3, 1.0, (n, 30))


@pytest.mark.parametrize("tag", ["fixed_pt", "floating_pt"])
def test_snnc_neuron_equals_stock_lif_and_windows_reset(tag):
    rng = np.random.default_rng(0)
    n, T, pad = 8, 12, 3
    params, a = _params(tag, rng, n)
    a = a[:, : 2 * (T + pad)]
    # whole run as one window: identical to the stock LIF on the same input
    s_ours, v_ours, s_stock, v_stock = _run(tag, a, a, params, (a.shape[1], 0))
    np.testing.assert_array_equal(s_ours, s_stock)
    np.testing.assert_array_equal(v_ours, v_stock)
    assert s_stock.sum() > 0
    # two windows of T + pad: window 2 equals the stock LIF started fresh on window 2's input
    s_w, v_w, s_ref, v_ref = _run(tag, a, a[:, T + pad:], params, (T, pad))
    np.testing.assert_array_equal(s_w[T + pad:T + pad + T], s_ref[:T])
    np.testing.assert_array_equal(v_w[T + pad:T + pad + T], v_ref[:T])
    np.testing.assert_array_equal(s_w[:T], s_stock[:T])
    assert not s_w[T:T + pad].any()  # idle steps are silent
