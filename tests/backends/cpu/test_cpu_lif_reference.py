"""The NIR paper's single-LIF task: real third-party traces (../shared/nir-reference/01_lif).

Float: ``lif_norse.nir`` (Affine(1) → LIF(tau 2.5 ms, r 1, threshold 0.1), dt = 1e-4) under the
forward-Euler convention of docs/design.md §3.3 (β = 1 − dt/τ = 0.96, g = dt/τ·r = 0.04, spike at v > θ)
spikes at exactly the steps of ``lif_exact.csv``.

Fixed point: the paper's own NIR → Lava mapping (tests/snnc_testing.py ``paper_lif_to_fixed``, from
``paper/01_lif/_lava_nir.py``: du 4095, dv = int(0.04·4095) = 163, vth = int(0.1·131071) >> 9 = 25,
input weight int32(0.04·256) = 10) run under lava timing reproduces ``lif_lava_cpu_fixed.csv``: its
spike steps and its voltage column at every one of the 1000 steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.cpu import run
from snnc_testing import lif_paper_input, paper_lif_params, paper_lif_to_fixed

DT = 1e-4


@pytest.fixture
def lif_case(nir_reference):
    from snnc.frontends import load_graph

    return load_graph(str(nir_reference / "01_lif" / "lif_norse.nir")), nir_reference / "01_lif"


def test_input_matches_trace_files(lif_case):
    _, folder = lif_case
    for name in ("lif_exact.csv", "lif_lava_cpu_fixed.csv"):
        assert np.array_equal(np.loadtxt(folder / name, delimiter=",")[:, 0], lif_paper_input()[0, :, 0])


def test_float_spike_steps_equal_exact_simulation(lif_case):
    g, folder = lif_case
    ref = np.loadtxt(folder / "lif_exact.csv", delimiter=",")
    res = run(g, lif_paper_input(), dt=DT)
    assert res.extras["threshold"] == ">"  # stock NIR graph: strict threshold
    got = np.flatnonzero(res.spikes["1"][0, :, 0])
    assert got.tolist() == np.flatnonzero(ref[:, 2]).tolist()
    assert len(got) > 0


def test_fixed_point_lava_timing_reproduces_lava_trace(lif_case):

    g, folder = lif_case
    assert paper_lif_params(2.5e-3, 0.1, DT) == {"du": 4095, "dv": 163, "vth": 25, "weight": 10}
    ref = np.loadtxt(folder / "lif_lava_cpu_fixed.csv", delimiter=",")
    res = run(paper_lif_to_fixed(g, DT), lif_paper_input(), timing="lava", record_voltage=True)
    assert res.numerics == "fixed" and res.timing == "lava"
    assert np.flatnonzero(res.spikes["1"][0, :, 0]).tolist() == np.flatnonzero(ref[:, 2]).tolist()
    assert np.array_equal(res.voltages["1"][0, :, 0], ref[:, 1])


def test_fixed_point_snnc_timing_is_one_step_earlier(lif_case):

    g, folder = lif_case
    ref = np.loadtxt(folder / "lif_lava_cpu_fixed.csv", delimiter=",")
    res = run(paper_lif_to_fixed(g, DT), lif_paper_input(), timing="snnc", record_voltage=True)
    assert np.array_equal(res.voltages["1"][0, :-1, 0], ref[1:, 1])
