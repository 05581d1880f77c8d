"""Exact (type-preserving) storage of nested values in HDF5, in the layout NIR 1.0.8 uses.

Values are written the way ``nir.write`` writes them (dicts -> groups, arrays -> datasets,
strings -> string datasets), so stock ``nir.read`` sees ordinary NIR. Each item also carries an
HDF5 attribute ``snnc_type`` that stock NIR ignores and :func:`read_value` uses to restore the
exact Python type: ``list`` vs ``tuple`` vs array, ``int`` vs ``np.int64``, ``None``. Arrays
are stored with their dtype (bit-identical); gzip is used only for non-empty arrays with at
least one dimension (NIR 1.0.8's gzip fails on 0-d arrays).
"""

from __future__ import annotations

import json
from typing import Any

import h5py
import numpy as np

TYPE_ATTR = "snnc_type"


def _is_numeric_array(a: np.ndarray) -> bool:
    return a.dtype.kind in "biufc"


def _homogeneous(seq) -> str | None:
    """'int', 'float' or 'bool' when every element is that plain Python type, else None."""
    for name, typ in (("bool", bool), ("int", int), ("float", float)):
        if seq and all(type(v) is typ for v in seq):
            return name
    return None


def _plain_text(s: str) -> bool:
    """HDF5 variable-length strings hold UTF-8 without NUL; anything else goes through JSON escapes."""
    if "\x00" in s:
        return False
    try:
        s.encode("utf8")
    except UnicodeEncodeError:
        return False
    return True


def write_value(group: h5py.Group, key: str, value: Any, compression: str | None = "gzip") -> None:
    """Write ``value`` as ``group[key]`` (a group for dicts, a dataset otherwise)."""
    key = str(key)
    if isinstance(value, dict) and all(isinstance(k, str) and "/" not in k and k not in (".",) for k in value):
        sub = group.create_group(key)
        sub.attrs[TYPE_ATTR] = "dict"
        for k, v in value.items():
            write_value(sub, k, v, compression)
        return
    if isinstance(value, str) and _plain_text(value):
        ds = group.create_dataset(key, data=value, dtype=h5py.string_dtype())
        ds.attrs[TYPE_ATTR] = "str"
    elif isinstance(value, np.ndarray) and _is_numeric_array(value):
        use = compression if value.ndim >= 1 and value.size > 0 else None
        ds = group.create_dataset(key, data=value, dtype=value.dtype, compression=use)
        ds.attrs[TYPE_ATTR] = "ndarray"
    elif isinstance(value, np.generic) and _is_numeric_array(np.asarray(value)):
        ds = group.create_dataset(key, data=value, dtype=np.asarray(value).dtype)
        ds.attrs[TYPE_ATTR] = "npscalar"
    elif type(value) in (bool, int, float):
        ds = group.create_dataset(key, data=value)
        ds.attrs[TYPE_ATTR] = type(value).__name__
    elif isinstance(value, (list, tuple)) and _homogeneous(value):
        ds = group.create_dataset(key, data=np.asarray(value))
        ds.attrs[TYPE_ATTR] = f"{type(value).__name__}:{_homogeneous(value)}"
    else:
        try:
            text = json.dumps(_to_json(value), sort_keys=False)
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot store {key!r} of type {type(value).__name__} in a NIR file: {e}") from None
        ds = group.create_dataset(key, data=text, dtype=h5py.string_dtype())
        ds.attrs[TYPE_ATTR] = "json"


def _to_json(v: Any) -> Any:
    """A JSON-able tagged form of ``v`` (tuples and numpy values are tagged to come back exactly)."""
    if v is None or type(v) in (bool, int, float, str):
        return v
    if isinstance(v, tuple):
        return {"__tuple__": [_to_json(x) for x in v]}
    if isinstance(v, list):
        return [_to_json(x) for x in v]
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v) and "__tuple__" not in v and "__ndarray__" not in v:
            return {k: _to_json(x) for k, x in v.items()}
        return {"__items__": [[_to_json(k), _to_json(x)] for k, x in v.items()]}
    if isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
        # raw bytes (hex) keep every bit, NaN payloads and -0.0 included; lists only for non-numeric arrays
        data = a.tobytes().hex() if _is_numeric_array(a) else a.tolist()
        return {"__ndarray__": data, "dtype": a.dtype.str, "shape": list(a.shape),
                "scalar": isinstance(v, np.generic)}
    raise TypeError(f"unsupported type {type(v).__name__}")


def _from_json(v: Any) -> Any:
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    if isinstance(v, dict):
        if "__tuple__" in v:
            return tuple(_from_json(x) for x in v["__tuple__"])
        if "__items__" in v:
            return {_hashable(_from_json(k)): _from_json(x) for k, x in v["__items__"]}
        if "__ndarray__" in v:
            data, dtype = v["__ndarray__"], np.dtype(v["dtype"])
            if isinstance(data, str):
                a = np.frombuffer(bytes.fromhex(data), dtype=dtype).copy().reshape(v["shape"])
            else:
                a = np.asarray(data, dtype=dtype).reshape(v["shape"])
            return a[()] if v.get("scalar") else a
        return {k: _from_json(x) for k, x in v.items()}
    return v


def _hashable(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def read_value(item: h5py.Group | h5py.Dataset) -> Any:
    """Inverse of :func:`write_value`; items without ``snnc_type`` are read the way ``nir.read``
    reads them (strings decoded, arrays as arrays)."""
    tag = item.attrs.get(TYPE_ATTR)
    if isinstance(tag, bytes):
        tag = tag.decode()
    if isinstance(item, h5py.Group):
        return {str(k): read_value(v) for k, v in item.items()}
    raw = item[()]
    if tag is None:
        return raw.decode("utf8") if isinstance(raw, bytes) else raw
    if tag == "str":
        return raw.decode("utf8") if isinstance(raw, bytes) else str(raw)
    if tag == "ndarray":
        return np.asarray(raw)
    if tag == "npscalar":
        return raw
    if tag in ("bool", "int", "float"):
        return {"bool": bool, "int": int, "float": float}[tag](raw)
    if tag.startswith(("list:", "tuple:")):
        outer, inner = tag.split(":")
        conv = {"bool": bool, "int": int, "float": float}[inner]
        seq = [conv(x) for x in np.asarray(raw).tolist()]
        return seq if outer == "list" else tuple(seq)
    if tag == "json":
        return _from_json(json.loads(raw.decode("utf8") if isinstance(raw, bytes) else raw))
    raise ValueError(f"unknown stored type {tag!r} for {item.name}")
