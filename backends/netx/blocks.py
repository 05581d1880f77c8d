r"""The Lava spec (:func:`snnc.backends.lava.lower.lower`) -> NetX blocks: one synapse + one LIF each, a chain.

lava-dl 0.6.0's ``netx.hdf5.Network`` builds a *chain* of blocks, each a stock ``Conv`` or ``Dense``
followed by a stock ``LIF`` (one step of delay per block), fed by an ``input`` layer that only
declares the shape; ``flatten`` re-indexes between a conv and a dense. It has no pool layer, no
branches and no per-step gains. So from the spec (Lava layouts, already checked for 8-bit weights):

- every neuron layer becomes one block with the synapse run that feeds it: one conv/dense, or a
  *pool* (a depthwise conv whose every kernel entry is the same integer a, kernel = stride = p, no
  padding, dilation 1 — a SumPool2d, or an AvgPool2d after ``lower_pooling`` + ``quantize``) followed
  by a conv or dense, fused into that one synapse:

  .. math:: \mathrm{conv}_{W,s,P}(\mathrm{pool}_p(x)) = \mathrm{conv}_{W',\,s p,\,P p}(x),\quad
            W'[o,i,u,v] = a\,W[o,i,\lfloor u/p\rfloor,\lfloor v/p\rfloor]

  (exact when p divides H and W: otherwise the rows the pool drops would enter the fused conv), and
  for a dense on the CHW-flattened pool output W'[o,c,h,x] = a W[o,c,⌊h/p⌋,⌊x/p⌋] for h < p⌊H/p⌋,
  x < p⌊W/p⌋, else 0 (always exact);
- layouts go back to NetX's PyTorch order (NetX flips and transposes them itself): conv weights
  (C_out, C_in, kH, kW), (H, W) pairs, dense columns in CHW-flatten order, neuron arrays CHW;
- neurons: NetX reads ``iDecay − 1`` as Lava's du, ``vDecay`` as dv, ``vThMant`` as vth (one per
  population) and the bias as ``bias_mant`` with ``bias_exp`` fixed to 6, so a bias is written as
  bias_mant·2^(bias_exp − 6), which must be an integer within 13 bits.

Block k (0-based) sees input frame t − (k + 1) at step t: its depth is k + 1 (a fused pool adds none).
Everything else is refused with one line naming the node and the way out.
"""

from __future__ import annotations

import numpy as np

from snnc.compiler.fixed_point import BIAS_MANT_MAX, BIAS_MANT_MIN
from snnc.errors import SnncError, UnsupportedNodeError

W_MIN, W_MAX = -256, 255


def _pt_conv_weight(lava_w: np.ndarray) -> np.ndarray:
    """Lava (C_out, kW, kH, C_in) true-convolution kernel -> PyTorch (C_out, C_in, kH, kW) correlation kernel."""
    return np.ascontiguousarray(np.asarray(lava_w).transpose(0, 3, 2, 1)[:, :, ::-1, ::-1])


def _chw(a: np.ndarray) -> np.ndarray:
    """A Lava (W, H, C) array as (C, H, W); vectors unchanged."""
    a = np.asarray(a)
    return np.ascontiguousarray(a.transpose(2, 1, 0)) if a.ndim == 3 else a


def _dense_chw_columns(w: np.ndarray, chw: list[int]) -> np.ndarray:
    """Undo the spec's column permutation to Lava's (W, H, C) flatten order: columns in CHW order."""
    c, h, wd = chw
    perm = np.arange(c * h * wd).reshape(c, h, wd).transpose(2, 1, 0).reshape(-1)
    out = np.empty_like(w)
    out[:, perm] = w
    return out


def pool_factor(layer: dict) -> tuple[int, int] | None:
    """(p, a) when the spec conv ``layer`` is a non-overlapping pool of size p with uniform weight a, else None."""
    if layer["kind"] != "conv":
        return None
    w = np.asarray(layer["weight"])  # (C_out, kX, kY, C_in / groups)
    c_out, kx, ky, c_per = w.shape
    groups = int(layer["groups"])
    c_in = int(layer["input_shape"][2])
    if kx != ky or tuple(layer["stride"]) != (kx, kx) or any(layer["padding"]) or tuple(layer["dilation"]) != (1, 1):
        return None
    if c_out != c_in or c_per * groups != c_in:
        return None
    out_per = c_out // groups
    a = None
    for o in range(c_out):
        own = o - (o // out_per) * c_per  # the input channel of o inside its group's slice
        if not 0 <= own < c_per or (o // out_per) * c_per + own != o:
            return None
        others = np.delete(w[o], own, axis=-1)
        vals = np.unique(w[o, :, :, own])
        if np.any(others != 0) or vals.size != 1 or (a is not None and vals[0] != a):
            return None
        a = vals[0]
    return (int(kx), int(a)) if a is not None and a == int(a) else None


def _fuse_pool_into_conv(pool: dict, conv: dict, p: int, a: int) -> dict:
    c, h, wd = pool["in_chw"]
    if h % p or wd % p:
        raise UnsupportedNodeError(f"netx: pool {pool['name']!r} (size {p}) on a {h}x{wd} map feeds conv "
                                   f"{conv['name']!r}: fusing them is exact only when {p} divides H and W; "
                                   "way out: an input size divisible by the pool, or --target lava")
    if tuple(conv["dilation"]) != (1, 1):
        raise UnsupportedNodeError(f"netx: conv {conv['name']!r} after pool {pool['name']!r} is dilated; "
                                   "NetX has no pool layer and a dilated conv cannot absorb it; way out: --target lava")
    w = np.repeat(np.repeat(conv["weight"], p, axis=2), p, axis=3) * a
    return {**conv, "weight": w, "stride": [s * p for s in conv["stride"]],
            "padding": [q * p for q in conv["padding"]], "in_chw": pool["in_chw"]}


def _fuse_pool_into_dense(pool: dict, dense: dict, p: int, a: int) -> dict:
    c, h, wd = pool["in_chw"]
    n_out = dense["weight"].shape[0]
    w4 = dense["weight"].reshape(n_out, c, h // p, wd // p)
    full = np.zeros((n_out, c, h, wd), w4.dtype)
    full[:, :, : p * (h // p), : p * (wd // p)] = np.repeat(np.repeat(w4, p, axis=2), p, axis=3) * a
    return {**dense, "weight": full.reshape(n_out, -1), "in_chw": pool["in_chw"], "flat_in": True}


def _synapse(layer: dict) -> dict:
    """One spec synapse in NetX's PyTorch layouts (conv: OIHW weight, (H, W) pairs; dense: CHW columns)."""
    src = layer["sources"][0]
    in_shape = list(src["shape"])
    if layer["kind"] == "conv":
        return {"name": layer["name"], "type": "conv", "weight": _pt_conv_weight(layer["weight"]),
                "stride": list(layer["stride"])[::-1], "padding": list(layer["padding"])[::-1],
                "dilation": list(layer["dilation"])[::-1], "groups": int(layer["groups"]),
                "in_chw": in_shape, "out_chw": list(layer["shape"])}
    w = np.asarray(layer["weight"])
    flat = bool(src["flat"]) and len(in_shape) == 3
    if flat:
        w = _dense_chw_columns(w, in_shape)
    return {"name": layer["name"], "type": "dense", "weight": w, "in_chw": in_shape, "flat_in": flat,
            "out_chw": list(layer["shape"])}


def _neuron(layer: dict) -> dict:
    name = layer["name"]
    if layer.get("gain") is not None:
        raise UnsupportedNodeError(f"netx: neuron {name!r} has a per-step input gain (TimeGain "
                                   f"{layer.get('gain_node')!r}); NetX's LIF has none; way out: --gain-granularity c "
                                   "(per-channel gains folded into the weights)")
    vth = np.unique(np.asarray(layer["vth"]))
    if vth.size != 1:
        raise UnsupportedNodeError(f"netx: neuron {name!r} has per-neuron thresholds; NetX's vThMant is one per layer")
    mant = np.asarray(layer["bias_mant"], np.int64)
    exp = np.broadcast_to(np.asarray(layer["bias_exp"], np.int64), mant.shape)
    scaled = mant * np.power(2.0, exp - 6)
    if np.any(scaled != np.round(scaled)) or np.any((scaled < BIAS_MANT_MIN) | (scaled > BIAS_MANT_MAX)):
        raise SnncError(f"netx: neuron {name!r}: its bias is not an integer 13-bit mantissa at NetX's fixed "
                        "bias_exp 6; way out: re-quantize (quantize writes bias_exp 6)")
    return {"name": name, "du": int(layer["du"]), "dv": int(layer["dv"]), "vth": int(vth[0]),
            "bias": _chw(np.round(scaled).astype(np.int64)), "shape": list(layer["shape"])}


def _chain_into(neuron: dict, by_name: dict) -> list[dict]:
    """The spec synapses feeding ``neuron``, first to last (a run with no neuron between them)."""
    chain: list[dict] = []
    terms = neuron["sources"]
    while True:
        if len(terms) != 1:
            what = "several sources are summed" if terms else "it has no source"
            head = chain[0]["name"] if chain else neuron["name"]
            raise UnsupportedNodeError(f"netx: {head!r}: {what}; NetX blocks form one chain (no branches or "
                                       "residual sums); way out: --target lava")
        src = terms[0]["src"]
        if src == "input" or by_name[src]["kind"] == "neuron":
            return chain
        chain.insert(0, by_name[src])
        terms = by_name[src]["sources"]


def _block_synapse(chain: list[dict]) -> tuple[dict, list[str]]:
    """One NetX synapse for a run of spec synapses: a single conv/dense, or a pool fused into the next one."""
    names = [c["name"] for c in chain]
    if len(chain) == 1:
        return _synapse(chain[0]), []
    pool = pool_factor(chain[0])
    if len(chain) != 2 or pool is None:
        raise UnsupportedNodeError(f"netx: synapses {' -> '.join(repr(n) for n in names)} follow each other with no "
                                   "neuron between; NetX fuses only a non-overlapping pool into the next conv/dense; "
                                   "way out: --target lava")
    p, a = pool
    first, second = _synapse(chain[0]), _synapse(chain[1])
    if second["type"] == "conv":
        fused = _fuse_pool_into_conv(first, second, p, a)
    elif second["flat_in"]:
        fused = _fuse_pool_into_dense(first, second, p, a)
    else:
        raise UnsupportedNodeError(f"netx: pool {names[0]!r} feeds dense {names[1]!r} without a Flatten")
    if np.any(fused["weight"] < W_MIN) or np.any(fused["weight"] > W_MAX):
        raise SnncError(f"netx: pool {names[0]!r} (weight {a}) fused into {names[1]!r} gives weights outside 8 bits; "
                        "way out: --target lava (keeps the pool as its own layer)")
    return fused, [names[0]]


def _check_dense(synapse: dict) -> dict:
    """NetX's ``optimize_weight_bits`` divides by the largest |weight|: an all-zero dense cannot load."""
    if synapse["type"] == "dense" and not np.any(synapse["weight"]):
        raise SnncError(f"netx: dense {synapse['name']!r} has only zero weights, which NetX's weight-bit "
                        "optimisation cannot load; way out: --target lava")
    return synapse


def netx_blocks(spec: dict) -> dict:
    """{"input": {...}, "blocks": [{synapse, neuron, depth, fused}], "depth": D} of a fixed-point Lava spec."""
    if not spec.get("fixed"):
        raise SnncError("netx: the graph is not fixed point; NetX describes Loihi's integer LIF; way out: drop --float")
    layers = spec["layers"]
    by_name = {layer["name"]: layer for layer in layers}
    consumers: dict[str, int] = {}
    for layer in layers:
        for t in layer["sources"]:
            consumers[t["src"]] = consumers.get(t["src"], 0) + 1
    for src, n in consumers.items():
        if n > 1:
            raise UnsupportedNodeError(f"netx: {src!r} feeds {n} layers; NetX blocks form one chain (no branches); "
                                       "way out: --target lava")
    blocks: list[dict] = []
    prev = "input"
    for layer in (x for x in layers if x["kind"] == "neuron"):
        chain = _chain_into(layer, by_name)
        if not chain:
            raise UnsupportedNodeError(f"netx: neuron {layer['name']!r} is fed by a neuron or the input directly; "
                                       "NetX blocks start with a conv or dense")
        start = chain[0]["sources"][0]["src"]
        if start != prev:
            raise UnsupportedNodeError(f"netx: {chain[0]['name']!r} reads {start!r}, not the previous block "
                                       f"{prev!r}; NetX blocks form one chain; way out: --target lava")
        synapse, fused = _block_synapse(chain)
        blocks.append({"synapse": _check_dense(synapse), "neuron": _neuron(layer), "depth": len(blocks) + 1,
                       "fused": fused})
        prev = layer["name"]
    if not blocks or spec["output"]["src"] != prev:
        raise UnsupportedNodeError(f"netx: the output must be the last block's spikes ({prev!r}), "
                                   f"got {spec['output']['src']!r}")
    return {"input": {"name": spec["input"]["name"], "shape": list(spec["input"]["shape"])},
            "blocks": blocks, "depth": len(blocks)}
