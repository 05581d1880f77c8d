"""The pipeline-aware readout on the NumPy reference (no Lava): lava timing + D zero steps, output counted
over steps D..T+D-1, against snnc timing counted over 0..T-1, on write_netx.py's 3-layer model (D = 3).
Per layer k (depth k+1): lava spikes at t+k+1 vs snnc spikes at t. With biases and without.
Run: cd /work/scratch/loihi2 && venv/bin/python readout_rule.py"""
import numpy as np
import write_netx as wn
from netx_reset_windows import snnc_timing
T, D = 20, 3
for label, zero_bias in (("with bias", False), ("zero bias", True)):
    same_layers, same_counts, old_counts_equal = [], 0, 0
    for seed in range(20):
        m = wn.make_model(seed)
        if zero_bias:
            m = dict(m, b1=np.zeros(4, int), b3=np.zeros(10, int))
        x = np.random.default_rng(100 + seed).random((T, 2, 12, 12)) < 0.3
        lava = wn.reference(m, np.concatenate([x, np.zeros((D, 2, 12, 12), bool)]))
        snnc = snnc_timing(m, x)
        same_layers.append([bool(np.array_equal(lava[k][k + 1:k + 1 + T], snnc[k])) for k in range(3)])
        same_counts += np.array_equal(lava[2][D:T + D].sum(0), snnc[2].sum(0))
        old_counts_equal += np.array_equal(lava[2][:T].sum(0), snnc[2].sum(0))
    print(f"{label}: 20 seeds; per-layer shifted spikes identical in all layers for "
          f"{sum(all(s) for s in same_layers)}/20; output counts D..T+D-1 == snnc counts: {same_counts}/20; "
          f"old readout 0..T-1 == snnc counts: {old_counts_equal}/20")
