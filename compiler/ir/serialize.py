"""Read and write snnc IR graphs as NIR 1.0.8 HDF5 files that stock ``nir.read`` opens.

Layout (the same as ``nir.write``): dataset ``version``, group ``node`` (type ``NIRGraph``,
``edges``, ``nodes/<name>/``, ``metadata``). snnc additions, all invisible to stock NIR:

* every item carries an ``snnc_type`` attribute so metadata and fields come back with their exact
  Python/NumPy types (:mod:`snnc.compiler.ir.h5codec`); arrays keep their dtype (bit-identical);
* an extension node (BatchNorm, ASA, MultiDimAttention, TimeGain, MaxPool2d, LoihiLIF) is written as a stock
  *placeholder* of the right shape — ``SumPool2d`` for MaxPool2d, an all-ones ``Scale``
  otherwise — whose ``metadata["snnc_ext"]`` holds ``{"type": <kind>, "fields": {...}}``.
  Stock tools can open the file (and would run the placeholder); :func:`read_graph` restores the
  extension node exactly. Use :func:`export_standard` for a file with standard nodes only;
* gzip only on non-empty arrays with ndim >= 1 (NIR 1.0.8 fails on 0-d arrays with gzip);
* on read, NIR's type inference is skipped (it rejects grouped convolutions) and snnc's own
  :func:`infer_shapes` runs instead.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import h5py
import numpy as np
import nir

from snnc.compiler.ir import nodes as ext
from snnc.compiler.ir.graph_utils import copy_graph, make_graph, node_kind
from snnc.compiler.ir.h5codec import read_value, write_value
from snnc.compiler.ir.kinds import NIR_SPIKING_KINDS
from snnc.compiler.ir.nir_versions import legacy_if_nodes, parse_version, strip_batch_dims, version_semantics
from snnc.compiler.ir.shapes import infer_shapes
from snnc.errors import SnncError, VerifyError
from snnc.io import atomic_path

EXT_KEY = "snnc_ext"
STANDARD_TYPES = frozenset(
    ["Affine", "Linear", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Delay", "Flatten", "I", "IF", "Input",
     "LI", "LIF", "CubaLI", "CubaLIF", "NIRGraph", "Output", "Scale", "Threshold"]
)


def _ext_fields(node: nir.NIRNode) -> dict:
    skip = {"input_type", "output_type", "metadata"}
    return {f.name: getattr(node, f.name) for f in dataclasses.fields(node) if f.name not in skip}


def _placeholder(name: str, node: nir.NIRNode) -> dict:
    """The stock-NIR dict written in place of extension node ``node``."""
    shape = np.asarray(node.input_type["input"], dtype=np.int64)
    if isinstance(node, ext.MaxPool2d):
        d = nir.SumPool2d(kernel_size=node.kernel_size, stride=node.stride, padding=node.padding).to_dict()
    else:
        d = nir.Scale(scale=np.ones(tuple(shape), dtype=np.float32)).to_dict()
    meta = dict(node.metadata or {})
    meta[EXT_KEY] = {"type": node_kind(node), "fields": _ext_fields(node)}
    d["metadata"] = meta
    return d


def _node_dict(name: str, node: nir.NIRNode) -> dict:
    if node_kind(node) in ext.EXTENSION_NODES:
        return _placeholder(name, node)
    if isinstance(node, nir.NIRGraph):
        return _graph_dict(node)
    return node.to_dict()


def _graph_dict(g: nir.NIRGraph) -> dict:
    return {
        "type": "NIRGraph",
        "nodes": {name: _node_dict(name, node) for name, node in g.nodes.items()},
        "edges": np.array([(str(a), str(b)) for a, b in g.edges], dtype=h5py.string_dtype()).reshape(-1, 2),
        "metadata": dict(g.metadata or {}),
    }


def _write_dict(group: h5py.Group, d: dict, compression: str | None) -> None:
    for key, value in d.items():
        if key == "metadata":
            if value:
                write_value(group, "metadata", value, compression)
        elif key == "nodes":
            nodes = group.create_group("nodes")
            for name, nd in value.items():
                _write_dict(nodes.create_group(name), nd, compression)
        elif key == "edges":
            group.create_dataset("edges", data=value, dtype=h5py.string_dtype())
        else:
            write_value(group, key, value, compression)


def write_graph(path: str | os.PathLike, g: nir.NIRGraph, compression: str | None = "gzip") -> None:
    """Write ``g`` to ``path`` atomically (shapes are inferred first; extension nodes as placeholders)."""
    bad = [n for n in g.nodes if "/" in str(n) or str(n) in ("", ".")]
    if bad:
        raise SnncError(f"{path}: cannot write node names {bad} (HDF5 names cannot contain '/')")
    try:
        g = infer_shapes(g)
    except VerifyError as e:
        raise VerifyError(f"{path}: cannot write: {e}") from None
    with atomic_path(path) as tmp:
        try:
            with h5py.File(tmp, "w") as f:
                f.create_dataset("version", data=nir.version, dtype=h5py.string_dtype())
                f.attrs["snnc_format"] = 1
                _write_dict(f.create_group("node"), _graph_dict(g), compression)
        except TypeError as e:
            raise SnncError(f"{path}: {e}") from None


def _build_node(path: str, name: str, d: dict) -> nir.NIRNode:
    if not isinstance(d, dict) or "type" not in d:
        raise SnncError(f"{path}: node {name!r} has no type")
    kind = d["type"]
    meta = d.get("metadata") or {}
    if isinstance(meta, dict) and EXT_KEY in meta:
        meta = dict(meta)
        stored = meta.pop(EXT_KEY)
        cls = ext.EXTENSION_NODES.get(str(stored.get("type")))
        if cls is None:
            raise SnncError(f"{path}: node {name!r} has unknown extension type {stored.get('type')!r}; "
                            f"known: {', '.join(ext.EXTENSION_NODES)}")
        try:
            return cls(**stored.get("fields", {}), metadata=meta)
        except (TypeError, ValueError, IndexError, AttributeError) as e:
            raise SnncError(f"{path}: node {name!r} ({stored.get('type')}): {e}") from None
    if kind not in STANDARD_TYPES:
        raise SnncError(f"{path}: node {name!r} has unknown node type {kind!r}")
    if kind == "NIRGraph":
        return _build_graph(path, d)
    try:
        return nir.dict2NIRNode(dict(d))
    except (TypeError, ValueError, KeyError, AssertionError, IndexError, AttributeError) as e:
        raise SnncError(f"{path}: node {name!r} ({kind}): cannot be built: {e}") from None


def _build_graph(path: str, d: dict) -> nir.NIRGraph:
    if "nodes" not in d or "edges" not in d:
        raise SnncError(f"{path}: the NIR graph has no nodes or no edges")
    nodes = {str(n): _build_node(path, str(n), nd) for n, nd in d["nodes"].items()}
    edges = [(_s(a), _s(b)) for a, b in np.asarray(d["edges"]).reshape(-1, 2)]
    return make_graph(nodes, edges, d.get("metadata") or {})


def _s(v) -> str:
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def read_graph(path: str | os.PathLike) -> nir.NIRGraph:
    """Read a NIR file (snnc-written or third-party) into the IR, with shapes inferred.

    Raises :class:`SnncError` naming the file and the problem: missing file, not HDF5, HDF5
    that is not NIR, unknown node types, shapes that disagree along an edge.
    """
    p = Path(path)
    if not p.is_file():
        raise SnncError(f"{path}: no such file")
    if not h5py.is_hdf5(p):
        raise SnncError(f"{path}: not an HDF5 (NIR) file")
    try:
        with h5py.File(p, "r") as f:
            if "node" not in f or not isinstance(f["node"], h5py.Group) or "type" not in f["node"]:
                raise SnncError(f"{path}: HDF5 file is not a NIR graph (no 'node' group)")
            d = read_value(f["node"])
            version = _file_version(f)
    except OSError as e:
        raise SnncError(f"{path}: cannot read HDF5: {e}") from None
    except (RuntimeError, KeyError, ValueError, TypeError, UnicodeDecodeError, AttributeError) as e:
        # a corrupted file can fail anywhere inside h5py or the codec
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise SnncError(f"{path}: corrupt or malformed HDF5 content ({first})") from None
    if not isinstance(d, dict) or d.get("type") != "NIRGraph":
        raise SnncError(f"{path}: HDF5 file is not a NIR graph (root type {d.get('type') if isinstance(d, dict) else None!r})")
    try:
        g = _build_graph(str(path), d)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise SnncError(f"{path}: malformed NIR graph ({first})") from None
    g = _apply_file_conventions(str(path), g, version, legacy_if_nodes(d))
    try:
        return infer_shapes(g)
    except VerifyError as e:
        raise VerifyError(f"{path}: {e}") from None


def _file_version(f: h5py.File) -> str | None:
    """The file's ``version`` dataset as a string (None when absent or unreadable)."""
    if "version" not in f or not isinstance(f["version"], h5py.Dataset):
        return None
    try:
        v = f["version"][()]
    except (OSError, ValueError, TypeError):
        return None
    v = v.decode("utf8", "replace") if isinstance(v, bytes) else str(v)
    return v.strip() or None


def _apply_file_conventions(path: str, g: nir.NIRGraph, version: str | None, if_nodes: list[str]) -> nir.NIRGraph:
    """The old-version reset and batch-typed I/O of :mod:`snnc.compiler.ir.nir_versions`, recorded in
    ``metadata["snnc"]`` (``nir_version``, ``reset``, ``source_notes``). snnc-written files (the
    current NIR version, no IF without v_reset, no batch dims) come back unchanged."""
    extra, notes = version_semantics(path, g, version, if_nodes)
    g, batch_notes = strip_batch_dims(g)
    notes += batch_notes
    meta = dict(g.metadata or {})
    snnc = dict(meta.get("snnc") or {})
    if version and parse_version(version) != parse_version(nir.version) and "nir_version" not in snnc:
        snnc["nir_version"] = version  # a third-party file of another NIR version (snnc writes the current one)
    if "reset" in extra:
        snnc["reset"] = extra["reset"]
    if notes:
        snnc["source_notes"] = list(snnc.get("source_notes") or []) + notes
    if snnc == dict(meta.get("snnc") or {}):
        return g
    meta["snnc"] = snnc
    return make_graph(g.nodes, g.edges, meta)


def export_standard(g: nir.NIRGraph) -> tuple[nir.NIRGraph, list[str]]:
    """A copy of ``g`` for other NIR tools, and one note per node that has no standard form.

    The notes are empty exactly when the returned graph holds standard NIR nodes only. An
    unfolded BatchNorm is reported ("fold it first"); ASA, TimeGain, MaxPool2d and LoihiLIF have
    no standard NIR equivalent and are reported per node (they stay as extension nodes).
    """
    out = copy_graph(g)
    notes: list[str] = []
    reasons = {
        "BatchNorm": "BatchNorm is not folded; run fold_batchnorm first (NIR has no BatchNorm)",
        "ASA": "ASA (data-dependent, non-causal attention) has no standard NIR form",
        "MultiDimAttention": "MultiDimAttention (data-dependent, non-causal attention) has no standard NIR form",
        "TimeGain": "TimeGain (per-timestep gain) has no standard NIR form",
        "MaxPool2d": "MaxPool2d has no standard NIR form in NIR 1.0.8",
        "LoihiLIF": "LoihiLIF (fixed-point Loihi neuron) has no standard NIR form",
    }
    reset = ((g.metadata or {}).get("snnc") or {}).get("reset", "zero")
    if reset != "zero":
        spiking = sorted(n for n, node in out.nodes.items() if node_kind(node) in NIR_SPIKING_KINDS)
        if spiking:
            notes.append(f"{spiking[0]}: resets by subtraction (metadata['snnc']['reset'] = {reset!r}); NIR 1.0.8 "
                         "neurons reset to v_reset, so a stock reader would run it differently")
    for name, node in out.nodes.items():
        kind = node_kind(node)
        if kind in reasons:
            notes.append(f"{name}: {reasons[kind]}")
        elif kind not in STANDARD_TYPES:
            notes.append(f"{name}: {kind} is not a NIR node")
    return out, notes
