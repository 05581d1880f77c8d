"""Regenerate the released-code reference cases in this folder (run by hand; never by the tests).

The oracle is the released code itself: BICLab/ASA-SNN @ c68b2d0211eb481c47af9c43fc2107f057a6066d
(``models/Net.py`` arch A = LIF-SNN-3, ``models/Net4.py`` arch D, ``models/Net2.py`` arch B =
LIF-SNN-5). Its modules are imported from a local extraction of that commit; nothing of it is copied
into snnc. How to run (outside the repository)::

    python3.11 -m venv /work/scratch/released/venv
    /work/scratch/released/venv/bin/python -m pip install torch==2.13.0 'spikingjelly==0.0.0.0.14' \
        einops 'pandas<2.3' 'numpy<2'
    git --git-dir=<mirror of BICLab/ASA-SNN> archive c68b2d0 | tar -x -C /work/scratch/released/src/asa
    OMP_NUM_THREADS=1 /work/scratch/released/venv/bin/python tests/data/released/regenerate.py \
        /work/scratch/released/src/asa

For every case it writes ``<case>.json`` (the released ``state_dict()`` key list and shapes, the
portable weight recipe, the expected numbers) and ``<case>_inputs.npz`` (uint8 event-count frames
[S, T, P, A, B] exactly as the released net is fed them: A = X, B = Y for ASA-SNN's own loaders; the
LIF-SNN-5 cases stand for spikingjelly frames, A = y, B = x). Weights: for the i-th key in sorted order,
``rng = np.random.default_rng([seed, i])`` and the key's ``dist`` (normal mean/std, uniform low/high,
const value), cast to the key's dtype; ``checksum`` is the float64 sum of the result (the tests check
their rebuild against it). Expected numbers: eval mode, ``functional.reset_net`` before every sample,
each sample run as a batch of two identical copies (the released ASA couples the batch through union
top-k masks and crashes at batch 1; with two identical copies the union is the sample's own mask);
copy 0 is recorded: ``counts[layer]`` = spikes per (t, channel or neuron), ``rates`` = the network's
output (mean over T of the output spikes; LIF-SNN-5: after its voting layer), ``topk_ties`` = the ASA
layers whose released scores M (computed with the module's own operations, from its captured input)
hold equal values across a top-k boundary: there torch.topk's unspecified tie order decides the mask
(snnc's ASA takes the lower index), so the tests compare those samples only up to that layer.
The weight recipe for ASA's fc is PyTorch's own Linear init, U(±1/sqrt(fan_in)): the released code
never trains those weights (asa-snn.md §2.3c), so a released checkpoint holds exactly such values.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipe import make_array  # noqa: E402 (the tests rebuild the weights with the same function)

HERE = Path(__file__).resolve().parent
SOURCE = {"repo": "BICLab/ASA-SNN", "commit": "c68b2d0211eb481c47af9c43fc2107f057a6066d"}

# name: (module, constructor kwargs, args overrides, input [T, P, X, Y], samples, event rate, gains)
CASES = {
    "lif3_asa": ("models.Net", {"conv_configs": [(2, 8, 3), (8, 16, 3), (16, 16, 3)]},
                 {"attention": "ASA", "reduction": 2}, (8, 2, 32, 32), 3, 0.3, (1.2, 1.4, 1.6, 1.6, 2.4)),
    "lif3_asa_r1": ("models.Net", {"conv_configs": [(2, 8, 3), (8, 16, 3), (16, 16, 3)]},
                    {"attention": "ASA", "reduction": 1}, (8, 2, 32, 32), 3, 0.3, (1.2, 1.4, 1.6, 1.6, 2.4)),
    "lif3_vanilla": ("models.Net", {"conv_configs": [(2, 8, 3), (8, 16, 3), (16, 16, 3)]},
                     {"attention": "no", "reduction": 2}, (8, 2, 32, 32), 3, 0.3, (1.0, 1.2, 1.4, 1.6, 2.4)),
    "lif3d_asa": ("models.Net4", {}, {"attention": "ASA", "reduction": 2}, (8, 2, 32, 32), 2, 0.3,
                  (1.2, 1.4, 1.6, 1.6, 2.4)),
    # final.sh's Gait-night r = 8 at T = 32: ASA hidden width 4; its ReLU can zero a channel's whole
    # score column, and torch.topk then breaks the tie its own way (recorded in topk_ties)
    "lif3d_asa_r8": ("models.Net4", {}, {"attention": "ASA", "reduction": 8}, (32, 2, 32, 32), 2, 0.1,
                     (1.2, 1.4, 1.6, 1.6, 2.4)),
    "lif5_asa": ("models.Net2", {"channels": 8, "conv_configs": [(2, 8, 3, 1)] + [(8, 8, 3, 1)] * 4},
                 {"attention": "ASA", "dataset": "gesture_sj", "ds": 1}, (8, 2, 128, 128), 2, 0.05,
                 (6.0, 8.0, 8.0, 8.0, 8.0, 4.0, 3.0)),
    "lif5_vanilla": ("models.Net2", {"channels": 8, "conv_configs": [(2, 8, 3, 1)] + [(8, 8, 3, 1)] * 4},
                     {"attention": "no", "dataset": "gesture_sj", "ds": 1}, (8, 2, 128, 128), 2, 0.05,
                     (3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0)),
}


def released_args(overrides: dict, T: int):
    """The released ``config.py`` namespace with its defaults, as ``final.sh`` passes them."""
    from config import parser  # noqa: E402  (the released config.py)

    args = parser.parse_args(["-ps", "00000", "-T", str(T)])
    for k, v in overrides.items():
        setattr(args, k, v)
    return args


def key_spec(key: str, shape: tuple, dtype: str, layer_gain: float, T: int) -> dict:
    """The recipe of one state_dict entry: a distribution chosen by the key's role."""
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    leaf = key.rsplit(".", 1)[-1]
    if dtype == "int64":
        return {"dist": "const", "value": 100}
    if ".attn." in key or key.startswith("attn."):
        if leaf in ("alpha", "beta"):
            return {"dist": "uniform", "low": 0.2, "high": 0.8}
        if ".fc." in key:  # never trained (no gradient, asa-snn.md 2.3c): PyTorch's Linear init
            bound = round(1.0 / np.sqrt(fan_in), 6)
            return {"dist": "uniform", "low": -bound, "high": bound}
        return {"dist": "normal", "mean": 0.0, "std": round(1.0 / np.sqrt(fan_in), 6)}
    if leaf == "w":  # spikingjelly PLIF: k = sigmoid(w)
        return {"dist": "normal", "mean": 0.0, "std": 0.5}
    if leaf == "running_mean":
        return {"dist": "normal", "mean": 0.0, "std": 0.1}
    if leaf == "running_var":
        return {"dist": "uniform", "low": 0.5, "high": 1.5}
    if ".bn." in key and leaf == "weight":
        return {"dist": "uniform", "low": 0.8, "high": 1.2}
    if leaf == "bias":
        return {"dist": "normal", "mean": 0.0, "std": 0.1}
    return {"dist": "normal", "mean": 0.0, "std": round(layer_gain / np.sqrt(fan_in), 6)}




def layer_index(key: str) -> int:
    """Which weight layer a key belongs to (conv i -> i, FC j -> n_conv + j) for its gain."""
    parts = key.split(".")
    return int(parts[1]) + (0 if parts[0] == "ConvAttLIFs" else 100)


def boundary_ties(attn, x) -> bool:
    """Whether the released scores M of ``attn`` on input x (N, T, C, H, W), computed with the module's
    own operations, have equal values straddling a top-k boundary (then torch.topk's unspecified
    tie order decides the mask; snnc takes the lower index)."""
    import torch

    with torch.no_grad():
        avg, mx = attn.avg_pool(x), attn.max_pool(x)
        m = 0.5 * (avg + mx) + attn.alpha * avg + attn.beta * mx
        m = attn.fc(m.squeeze().transpose(1, 2).contiguous()).transpose(1, 2).contiguous()[0]  # (T, C)
    t, c = m.shape
    for scores, k in ((m, int(c * attn.lam_)), (m.T, int(t * attn.lam_))):
        v = torch.sort(scores, dim=1, descending=True).values
        if 0 < k < v.shape[1] and bool((v[:, k - 1] == v[:, k]).any()):
            return True
    return False


def build_case(name: str, seed: int) -> None:
    import torch
    from spikingjelly.clock_driven import functional

    module, kwargs, overrides, in_shape, samples, rate, gains = CASES[name]
    T = in_shape[0]
    net_cls = __import__(module, fromlist=["DVSGestureNet"]).DVSGestureNet
    torch.manual_seed(0)
    model = net_cls(released_args(overrides, T), **kwargs).eval()
    sd = model.state_dict()
    n_conv = len(model.ConvAttLIFs)
    keys = sorted(sd)
    recipe = []
    new_sd = {}
    for i, k in enumerate(keys):
        li = layer_index(k)
        gain = gains[li if li < 100 else n_conv + li - 100]
        dtype = str(sd[k].dtype).replace("torch.", "")
        spec = {"key": k, "shape": list(sd[k].shape), "dtype": dtype, **key_spec(k, tuple(sd[k].shape), dtype, gain, T)}
        arr = make_array(seed, i, spec)
        spec["checksum"] = float(arr.astype(np.float64).sum())
        recipe.append(spec)
        new_sd[k] = torch.from_numpy(arr)
    model.load_state_dict(new_sd, strict=True)
    model.eval()

    rng = np.random.default_rng([seed, 10_000])
    x = np.minimum(rng.poisson(rate, (samples, *in_shape)), 255).astype(np.uint8)
    counts: list[dict] = []
    rates, ties = [], []
    attns = [getattr(b, "attn", None) if hasattr(b, "attn") else b[0].attn for b in model.ConvAttLIFs]
    seen: dict[int, torch.Tensor] = {}
    for li, a in enumerate(attns):
        if type(a).__name__ == "ASA":
            a.register_forward_hook(lambda m, inp, out, li=li: seen.__setitem__(li, inp[0].detach().clone()))
    with torch.no_grad():
        for s in range(samples):
            functional.reset_net(model)
            seen.clear()
            xb = torch.from_numpy(np.stack([x[s], x[s]])).float()
            out, firing = model(xb)
            ties.append([li for li in sorted(seen) if boundary_ties(attns[li], seen[li])])
            layers = {}
            for li, f in enumerate(firing):
                # every released layer output is (T, N, C, ...): copy 0 of the pair
                f0 = f[:, 0]
                layers[f"L{li}"] = f0.reshape(T, f0.shape[1], -1).sum(-1).to(torch.int64).tolist()
            counts.append(layers)
            rates.append(out[0].tolist())
            assert torch.equal(out[0], out[1])
    plain_kwargs = {k: [list(c) for c in v] if isinstance(v, list) else v for k, v in kwargs.items()}
    case = {"case": name, "source": {**SOURCE, "file": module.replace(".", "/") + ".py",
                                     "class": "DVSGestureNet", "kwargs": plain_kwargs,
                                     "args": {**overrides, "T": T, "ps": "00000", "lam": 0.5}},
            "seed": seed, "input_shape_TPXY": list(in_shape), "samples": samples,
            "state_dict": recipe, "expected": {"counts": counts, "rates": rates, "topk_ties": ties}}
    case["state_dict_order"] = list(sd)
    (HERE / f"{name}.json").write_text(dump(case))
    np.savez_compressed(HERE / f"{name}_inputs.npz", x=x)
    tot = [[int(np.sum(c[k])) for k in c] for c in counts]
    print(name, "keys", len(keys), "spikes per layer", tot, "layers with top-k ties", ties)


def dump(case: dict) -> str:
    """JSON with one line per top-level entry, per recipe entry and per sample."""
    c = lambda v: json.dumps(v, separators=(",", ":"))  # noqa: E731
    lines = []
    for k, v in case.items():
        if k == "state_dict":
            body = ",\n  ".join(c(s) for s in v)
            lines.append(f' "{k}": [\n  {body}]')
        elif k == "expected":
            body = ",\n  ".join(f'"{n}": [\n   ' + ",\n   ".join(c(x) for x in xs) + "]" for n, xs in v.items())
            lines.append(f' "{k}": {{\n  {body}}}')
        else:
            lines.append(f" {c(k)}: {c(v)}")
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    assert json.loads(text) == json.loads(json.dumps(case))
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("released_src", help="extracted BICLab/ASA-SNN @ c68b2d0")
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    sys.path.insert(0, str(Path(a.released_src).resolve()))
    for name in a.cases:
        build_case(name, a.seed)


if __name__ == "__main__":
    main()
