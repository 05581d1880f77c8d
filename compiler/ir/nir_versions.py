"""What a NIR file's ``version`` and its exporter's habits mean for the IR (docs/design.md §4.1).

* **Reset of old files.** NIR up to 1.0.5 had no ``v_reset``; its IF node was defined as
  v ← v − v_thr on a spike (reset by subtraction; Sinabs 3.1.3 and Rockpool 3.1 pin nir ≤ 1.0.4).
  NIR 1.0.6 added ``v_reset`` and reset to it (0 when absent). A file written by nir < 1.0.6 whose
  IF nodes carry no ``v_reset`` is therefore read with ``metadata["snnc"]["reset"] = "subtract"``
  (snnc's reset is per graph, design.md §3.2); LIF/CubaLIF of such files keep reset to zero, as
  the exporters of that time (Norse, snnTorch's "zero" graphs) wrote them. A graph mixing such IF
  nodes with LIF/CubaLIF (Sinabs) resets all of them by subtraction: nir 1.0.4's own LIF and CubaLIF
  docstrings define v ← v − v_thr as well.
* **Batch dimension.** Rockpool (through nirtorch) declares Input/Output types with a leading
  batch dimension of 1, e.g. ``(1, 32)``. Where the node behind the Input takes one dimension less,
  the leading 1 is dropped (from the Output too) and a note says so.

Both produce human-readable notes stored in ``metadata["snnc"]["source_notes"]`` (the compile
report and ``snnc inspect`` print them).
"""

from __future__ import annotations

import re

import numpy as np
import nir

from snnc.compiler.ir.graph_utils import make_graph, node_kind, successors
from snnc.compiler.ir.kinds import NIR_SPIKING_KINDS
from snnc.compiler.ir.shapes import infer_shapes
from snnc.errors import VerifyError

SUBTRACT_RESET_BEFORE = (1, 0, 6)  # first NIR release with v_reset (reset to v_reset)
_NEURON_PARAM = {"LIF": "tau", "LI": "tau", "IF": "r", "CubaLIF": "tau_mem", "CubaLI": "tau_mem", "I": "r"}


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """"1.0.4" -> (1, 0, 4); None for a missing or unparsable version."""
    if not text:
        return None
    m = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", str(text))
    if not m:
        return None
    return tuple(int(p or 0) for p in m.groups())


def resets_by_subtraction(version: str | None) -> bool:
    """True when a file written by nir ``version`` defines IF's reset as v ← v − v_thr."""
    v = parse_version(version)
    return v is not None and v < SUBTRACT_RESET_BEFORE


def legacy_if_nodes(d: dict) -> list[str]:
    """Names of the IF nodes of a raw NIR graph dict that carry no ``v_reset``."""
    nodes = d.get("nodes") or {}
    return sorted(str(n) for n, nd in nodes.items()
                  if isinstance(nd, dict) and _s(nd.get("type")) == "IF" and "v_reset" not in nd)


def _s(v) -> str:
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def version_semantics(path: str, g: nir.NIRGraph, version: str | None, if_nodes: list[str]) -> tuple[dict, list[str]]:
    """(metadata["snnc"] additions, notes) for a graph read from a file written by nir ``version``."""
    extra: dict = {"nir_version": version} if version else {}
    if not if_nodes or not resets_by_subtraction(version):
        return extra, []
    others = sorted(n for n, node in g.nodes.items() if node_kind(node) in NIR_SPIKING_KINDS and node_kind(node) != "IF")
    extra["reset"] = "subtract"
    if others:  # nir <= 1.0.4's LIF/CubaLIF docstrings (nir/ir/neuron.py) reset by subtraction too
        return extra, [f"written by nir {version}: IF, LIF and CubaLIF reset by subtraction (v -= v_threshold; "
                       f"that NIR version's definition; {len(if_nodes) + len(others)} spiking nodes)"]
    return extra, [f"written by nir {version}: IF resets by subtraction (v -= v_threshold; {len(if_nodes)} IF "
                   f"node{'s' if len(if_nodes) != 1 else ''}, no v_reset in that NIR version)"]


def _ndim_taken(node: nir.NIRNode) -> int | None:
    """Per-step input rank ``node`` expects (None when it takes any rank)."""
    kind = node_kind(node)
    if kind in ("Affine", "Linear"):
        return np.asarray(node.weight).ndim - 1
    if kind == "Conv2d":
        return 3
    if kind == "Conv1d":
        return 2
    if kind in _NEURON_PARAM:
        return np.asarray(getattr(node, _NEURON_PARAM[kind])).ndim
    return None


def _declared(types: dict | None, key: str) -> tuple[int, ...] | None:
    if not types or types.get(key) is None:
        return None
    return tuple(int(v) for v in np.asarray(types[key]).reshape(-1))


def strip_batch_dims(g: nir.NIRGraph) -> tuple[nir.NIRGraph, list[str]]:
    """``g`` with a leading batch dimension of 1 dropped from its Input/Output types (module docstring)."""
    succ = successors(g)
    nodes = dict(g.nodes)
    notes: list[str] = []
    for name, node in g.nodes.items():
        if not isinstance(node, nir.Input):
            continue
        shape = _declared(node.input_type, "input")
        takes = {_ndim_taken(g.nodes[s]) for s in succ.get(name, [])}
        if not shape or len(shape) < 2 or len(takes) != 1 or None in takes:
            continue
        want = takes.pop()
        lead = len(shape) - want
        if lead < 1 or want < 1 or any(d != 1 for d in shape[:lead]):
            continue
        nodes[name] = nir.Input(input_type={"input": np.asarray(shape[lead:])}, metadata=dict(node.metadata or {}))
        notes.append(f"input {name!r} declares a batch dimension: type {list(shape)} read as {list(shape[lead:])}")
    outputs = {n: _declared(node.output_type, "output") for n, node in g.nodes.items() if isinstance(node, nir.Output)}
    outputs = {n: s for n, s in outputs.items() if s and len(s) >= 2 and s[0] == 1}
    if outputs:  # an Output's type only checks: compare it with what reaches the Output, less leading 1s
        free = {n: nir.Output(output_type={"output": None}, metadata=dict(g.nodes[n].metadata or {})) for n in outputs}
        try:
            typed = infer_shapes(make_graph({**nodes, **free}, list(g.edges), {}))
        except VerifyError:
            typed = None
        for name, shape in outputs.items():
            got = None if typed is None else _declared(typed.nodes[name].input_type, "input")
            lead = len(shape) - len(got or shape)
            if not got or lead < 1 or any(d != 1 for d in shape[:lead]) or tuple(shape[lead:]) != got:
                continue
            nodes[name] = nir.Output(output_type={"output": np.asarray(got)}, metadata=dict(g.nodes[name].metadata or {}))
            notes.append(f"output {name!r} declares a batch dimension: type {list(shape)} read as {list(got)}")
    if not notes:
        return g, []
    return make_graph(nodes, list(g.edges), dict(g.metadata or {})), notes
