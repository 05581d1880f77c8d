"""Which released ASA-SNN layouts snnc reads, and the strict check of their keys.

Verified by running the released code (BICLab/ASA-SNN @ c68b2d0, spikingjelly 0.0.0.0.14; fixtures in
tests/data/released/): ``model.state_dict()`` names spikingjelly containers (``SeqToANNContainer``,
``MultiStepContainer``, both ``nn.Sequential`` in 0.0.0.0.14) with ``.0.``. Older spikingjelly
releases wrapped the module as ``.module.``; both spellings are accepted and normalised to ``.0.``.

Arch A / D (``models/Net.py``, ``Net4.py``; snnc ``lif-snn-3``), conv layer i = 0..2, FC j = 0, 1::

    ConvAttLIFs.{i}.conv.0.{weight,bias}
    ConvAttLIFs.{i}.bn.0.{weight,bias,running_mean,running_var,num_batches_tracked}
    ConvAttLIFs.{i}.attn.{alpha,beta,conv1.weight,conv2.weight} + attn.fc.weight (r = 1) or
        attn.fc.{0,2}.weight (r > 1)                                   (ASA only)
    ConvAttLIFs.{i}.spike.0.attn.{alpha,beta,fc.weight,conv1.weight,conv2.weight}
                                            (ASA only: IFCell's nested ASA(T=1), unused, ignored)
    FCs.{j}.linear.0.{weight,bias}

Arch B (``models/Net2.py``; snnc ``lif-snn-5``), conv block i = 0..4, FC j = 0, 1::

    ConvAttLIFs.{i}.0.conv.0.weight          ConvAttLIFs.{i}.0.bn.0.{...as above}
    ConvAttLIFs.{i}.0.spike.0.w              ConvAttLIFs.{i}.0.attn.{alpha,beta,fc.weight,conv1.weight,conv2.weight}
    FCs.{j}.1.fc.{weight,bias}               FCs.{j}.1.spike.0.w

Wrappers: a DataParallel ``module.`` prefix on every key; a training checkpoint holding the
state_dict under ``net`` (BICLab/Attention-SNN's ``{'net', 'acc', 'epoch', 'acc_record'}``, the
form the released ``apis/__init__.py`` reads back as ``pretrained_path``), ``state_dict`` or
``model``, next to the bookkeeping keys in ``TRAINING_KEYS``. The released ASA-SNN train loop itself
saves the bare ``model.state_dict()``.

Refused by name: BICLab/Attention-SNN's MA-SNN nets (``convAttLIF0.conv2d.weight``, BatchNorm and TA on
the FC layers) and ``models/Net3.py`` (arch C: arch B's keys without PLIF ``w``; LIFNode and average
pools on spikes): no snnc model has their structure.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from snnc.errors import SnncError

CONTAINERS = ("state_dict", "net", "model")
TRAINING_KEYS = frozenset({"acc", "best_acc", "epoch", "best_epoch", "acc_record", "optimizer", "scheduler",
                           "lr_scheduler", "loss"})
BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
ASA = ("alpha", "beta", "conv1.weight", "conv2.weight")
_MODULE_FORM = re.compile(r"\.(conv|bn|linear|spike|pool|pooling)\.module\.")


def _looks_released(keys: list[str]) -> bool:
    return any(k.startswith(("ConvAttLIFs.", "module.ConvAttLIFs.")) for k in keys)


def released_state_dict(obj: Any, where: str = "checkpoint") -> dict | None:
    """The released state_dict inside ``obj``, keys normalised (no ``module.`` prefix, containers as
    ``.0.``); None if ``obj`` does not look like one. A training checkpoint with a key that is neither a
    state_dict container nor in ``TRAINING_KEYS`` is refused, naming the key."""
    if not isinstance(obj, Mapping):
        return None
    inner = [k for k in CONTAINERS if isinstance(obj.get(k), Mapping)]
    if inner:
        sd = released_state_dict(obj[inner[0]], where)
        if sd is None:
            return None
        for k in obj:
            if k != inner[0] and k not in TRAINING_KEYS:
                raise SnncError(f"{where}: released ASA-SNN training checkpoint has an unknown entry {k!r} "
                                f"(next to {inner[0]!r}; known: {', '.join(sorted(TRAINING_KEYS))})")
        return sd
    keys = [k for k in obj if isinstance(k, str)]
    ma = next((k for k in keys if re.match(r"^(module\.)?convAttLIF\d+\.", k)), None)
    if ma is not None:
        raise SnncError(f"{where}: a BICLab/Attention-SNN (MA-SNN) state_dict (key {ma!r}): its layout, with "
                        "BatchNorm and TA on the FC layers, matches no snnc model and is not read")
    if len(keys) != len(obj) or not _looks_released(keys):
        return None
    prefixed = [k.startswith("module.") for k in keys]
    if any(prefixed) and not all(prefixed):
        bad = keys[prefixed.index(False)] if prefixed[0] else keys[prefixed.index(True)]
        raise SnncError(f"{where}: released ASA-SNN state_dict mixes keys with and without the DataParallel "
                        f"'module.' prefix (first odd key {bad!r})")
    out = {}
    for k, v in obj.items():
        k = k[len("module."):] if prefixed[0] else k
        out[_MODULE_FORM.sub(lambda m: f".{m.group(1)}.0.", k)] = v
    return out


def architecture(sd: Mapping) -> str:
    """"A" (LIF-SNN-3: Net.py / Net4.py) or "B" (LIF-SNN-5: Net2.py) from the layout of conv layer 0."""
    if "ConvAttLIFs.0.conv.0.weight" in sd:
        return "A"
    if "ConvAttLIFs.0.0.conv.0.weight" in sd:
        return "B"
    raise SnncError("lacks 'ConvAttLIFs.0.conv.0.weight' (LIF-SNN-3) and 'ConvAttLIFs.0.0.conv.0.weight' (LIF-SNN-5)")


def _asa_keys(p: str, sd: Mapping) -> list[str]:
    """ASA's keys under prefix p: r = 1 has one fc, r > 1 two (fc.0, fc.2; either one present says so)."""
    two = f"{p}.fc.weight" not in sd and (f"{p}.fc.0.weight" in sd or f"{p}.fc.2.weight" in sd)
    return [f"{p}.{k}" for k in ASA] + ([f"{p}.fc.0.weight", f"{p}.fc.2.weight"] if two else [f"{p}.fc.weight"])


def expected_keys(sd: Mapping, arch: str) -> tuple[list[str], bool]:
    """Every key the released net of ``sd``'s shape has (arch, attention, reduction read from the
    keys themselves), and whether it uses ASA."""
    attn = any(re.match(r"^ConvAttLIFs\.\d+(\.0)?\.attn\.", k) for k in sd)
    keys: list[str] = []
    if arch == "A":
        for i in range(3):
            p = f"ConvAttLIFs.{i}"
            keys += [f"{p}.conv.0.weight", f"{p}.conv.0.bias"] + [f"{p}.bn.0.{k}" for k in BN]
            if attn:
                keys += _asa_keys(f"{p}.attn", sd) + [f"{p}.spike.0.attn.{k}" for k in (*ASA, "fc.weight")]
        keys += [f"FCs.{j}.linear.0.{k}" for j in range(2) for k in ("weight", "bias")]
    else:
        for i in range(5):
            p = f"ConvAttLIFs.{i}.0"
            keys += [f"{p}.conv.0.weight"] + [f"{p}.bn.0.{k}" for k in BN] + [f"{p}.spike.0.w"]
            if attn:
                keys += [f"{p}.attn.{k}" for k in (*ASA, "fc.weight")]
        keys += [f"FCs.{j}.1.{k}" for j in range(2) for k in ("fc.weight", "fc.bias", "spike.0.w")]
    return keys, attn


def check_keys(sd: Mapping, where: str) -> tuple[str, bool]:
    """(arch, uses ASA) of a normalised released state_dict; the first unknown or missing key is an
    error naming it (a BN without running statistics is named as such)."""
    try:
        arch = architecture(sd)
    except SnncError as e:
        raise SnncError(f"{where}: released ASA-SNN state_dict {e}") from None
    if arch == "B" and not any(k.endswith(".spike.0.w") for k in sd):
        raise SnncError(f"{where}: a released models/Net3.py (arch C) state_dict (no PLIF 'spike.0.w' keys): its "
                        "LIFNode neurons and average pools on spikes match no snnc model")
    want, attn = expected_keys(sd, arch)
    wanted = set(want)
    for k in sd:
        if k not in wanted:
            raise SnncError(f"{where}: unknown key {k!r} in a released ASA-SNN "
                            f"{'LIF-SNN-3' if arch == 'A' else 'LIF-SNN-5'} state_dict")
    for k in want:
        if k not in sd:
            hint = " (BatchNorm trained with track_running_stats=False has no running statistics)" \
                if k.endswith(("running_mean", "running_var", "num_batches_tracked")) else ""
            raise SnncError(f"{where}: released ASA-SNN state_dict lacks key {k!r}{hint}")
    check_shapes(sd, arch, attn, where)
    return arch, attn


def _shape(v: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in getattr(v, "shape", ()))


def expected_shapes(sd: Mapping, arch: str, attn: bool) -> dict[str, tuple[int, ...]]:
    """The shape every key must have, from the conv widths, FC sizes and ASA sizes the keys imply."""
    n_conv, conv = (3, "ConvAttLIFs.{i}") if arch == "A" else (5, "ConvAttLIFs.{i}.0")
    fcs = "FCs.{j}.linear.0" if arch == "A" else "FCs.{j}.1.fc"
    out: dict[str, tuple[int, ...]] = {}
    c_in = _shape(sd[f"{conv.format(i=0)}.conv.0.weight"])[1]
    a0 = f"{conv.format(i=0)}.attn"
    fc0 = _shape(sd.get(f"{a0}.fc.weight", sd.get(f"{a0}.fc.0.weight"))) if attn else ()
    t = fc0[1] if len(fc0) == 2 else -1  # T of the first ASA; every layer's must agree
    for i in range(n_conv):
        p = conv.format(i=i)
        w = _shape(sd[f"{p}.conv.0.weight"])[0]
        out[f"{p}.conv.0.weight"] = (w, c_in, 3, 3)
        out.update({f"{p}.conv.0.bias": (w,)} if arch == "A" else {f"{p}.spike.0.w": ()})
        out.update({f"{p}.bn.0.{k}": (w,) for k in BN[:4]} | {f"{p}.bn.0.num_batches_tracked": ()})
        if attn:
            out.update({f"{p}.attn.alpha": (1,), f"{p}.attn.beta": (1,), f"{p}.attn.conv1.weight": (1, 2, 3, 3),
                        f"{p}.attn.conv2.weight": (1, 2, 3, 3)})
            if f"{p}.attn.fc.weight" in sd:
                out[f"{p}.attn.fc.weight"] = (t, t)
            else:
                out.update({f"{p}.attn.fc.0.weight": (fc0[0], t), f"{p}.attn.fc.2.weight": (t, fc0[0])})
            if arch == "A":  # IFCell's nested ASA(T=1, C, reduction=1)
                nested = (("alpha", (1,)), ("beta", (1,)), ("fc.weight", (1, 1)), ("conv1.weight", (1, 2, 3, 3)),
                          ("conv2.weight", (1, 2, 3, 3)))
                out.update({f"{p}.spike.0.attn.{k}": s for k, s in nested})
        c_in = w
    hidden, features = _shape(sd[f"{fcs.format(j=0)}.weight"])
    classes = _shape(sd[f"{fcs.format(j=1)}.weight"])[0]
    for j, (o, i) in enumerate(((hidden, features), (classes, hidden))):
        out.update({f"{fcs.format(j=j)}.weight": (o, i), f"{fcs.format(j=j)}.bias": (o,)})
        if arch == "B":
            out[f"FCs.{j}.1.spike.0.w"] = ()
    return out


def check_shapes(sd: Mapping, arch: str, attn: bool, where: str) -> None:
    """Every key's shape is the one the rest of the state_dict implies; else an error naming the key."""
    for k, v in sd.items():
        if not hasattr(v, "shape") or not hasattr(v, "dtype"):
            raise SnncError(f"{where}: released ASA-SNN key {k!r} holds a {type(v).__name__}, not a tensor")
        rank = 4 if k.endswith("conv.0.weight") else 2 if k.endswith(("linear.0.weight", "fc.weight", "fc.0.weight",
                                                                       "fc.2.weight")) else None
        if rank is not None and len(_shape(v)) != rank:
            raise SnncError(f"{where}: released ASA-SNN key {k!r} has shape {list(_shape(v))}, expected {rank} axes")
    for k, want in expected_shapes(sd, arch, attn).items():
        got = _shape(sd[k])
        if got != want and not (want == () and got in ((1,),)):
            raise SnncError(f"{where}: released ASA-SNN key {k!r} has shape {list(got)}, expected {list(want)}")
