"""An artifact's ``manifest.json``: what ``snnc compile`` wrote, with the sha256 and size of every file.

``write_manifest(dir, ...)`` lists every file below ``dir`` (recursively: ``graph.nir``, ``report.*``,
``lava/spec.json`` and its ``.npy`` files, ``model.onnx``, ``standard.nir``) with its sha256 and byte
count, plus the snnc version and ``format_version``. ``verify_artifact(dir)`` is the one check every
reader runs first (``snnc simulate``, ``snnc regress``, the cpu/lava/onnx loaders): the manifest must
parse, match the schema below (:func:`check_manifest`), have a known version, and every listed file
must exist with the recorded size and sha256. Any failure is one :class:`SnncError` naming the file.

Leaf module: imports only the standard library and :mod:`snnc.errors` (usable from compiler/,
backends/ and the app alike, without torch, nir or numpy).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from snnc.errors import SnncError

FORMAT = "snnc-artifact"
#: 1: the input's sha256 only (snnc <= 3462a21); 2: sha256 and size of every file in the artifact
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
CHANGED = "the artifact was changed after compile"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: manifest "options" (snnc.compiler.compile_options.CompileOptions as written): name -> (allowed types, lower bound)
OPTION_TYPES: dict[str, tuple[tuple[type, ...], int | None]] = {
    "target": ((str,), None), "passes": ((list, str, type(None)), None), "calibrate": ((int,), 0),
    "holdout": ((int,), 0), "asa_mode": ((str,), None), "gain_granularity": ((str,), None),
    "fixed_point": ((bool, type(None)), None), "clip_weights": ((bool,), None), "data": ((str,), None),
    "seed": ((int,), None), "T": ((int, type(None)), None), "dt": ((float, int, type(None)), None),
    "convention": ((str, type(None)), None), "float_conv": ((str,), None),
}


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def list_files(directory: str | os.PathLike) -> list[str]:
    """Every regular file below ``directory`` except the root's manifest.json, as sorted POSIX paths."""
    root = Path(directory)
    found = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    return sorted(f for f in found if f != MANIFEST)


def _snnc_version() -> str:
    try:
        return importlib.metadata.version("snnc")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - snnc is always installed
        return "unknown"


def write_manifest(directory: str | os.PathLike, *, target: str, inputs: list[dict] | None = None,
                   passes: list[str] | None = None, options: dict | None = None,
                   versions: dict | None = None, created: str | None = None) -> dict[str, Any]:
    """Write ``directory/manifest.json`` listing every file already in ``directory``; returns it.

    Call it last, after every other file of the artifact is written."""
    root = Path(directory)
    files = {rel: {"sha256": sha256_file(root / rel), "bytes": (root / rel).stat().st_size}
             for rel in list_files(root)}
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "snnc_version": _snnc_version(),
                "target": target, "inputs": list(inputs or []), "passes": list(passes or []),
                "options": dict(options or {}), "versions": dict(versions or {}), "created": created,
                "files": files}
    check_manifest(manifest, root / MANIFEST)
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _type_error(where: str, key: str, want: str, got: Any) -> SnncError:
    return SnncError(f"{where}: {key}: expected {want}, got {json.dumps(got)[:60]}")


def _check_options(options: Any, where: str) -> None:
    if not isinstance(options, dict):
        raise _type_error(where, "options", "an object", options)
    for key, (types, low) in OPTION_TYPES.items():
        if key not in options:
            continue
        v = options[key]
        ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
        if not ok:
            raise _type_error(where, f"options.{key}", " or ".join(t.__name__ for t in types), v)
        if low is not None and v < low:
            raise SnncError(f"{where}: options.{key}: must be >= {low}, got {v}")
        if key == "passes" and isinstance(v, list) and not all(isinstance(p, str) for p in v):
            raise _type_error(where, "options.passes", "a list of pass names", v)


def _check_files(files: Any, where: str) -> None:
    if not isinstance(files, dict) or not files:
        raise _type_error(where, "files", "an object of file -> {sha256, bytes}", files)
    for rel, entry in files.items():
        parts = PurePosixPath(rel).parts
        if not rel or rel.startswith("/") or ".." in parts or "\\" in rel or rel == MANIFEST:
            raise SnncError(f"{where}: files: {rel!r} is not a path inside the artifact")
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                or not _SHA256.match(entry["sha256"]):
            raise _type_error(where, f"files[{rel!r}].sha256", "64 hex digits", (entry or {}).get("sha256")
                              if isinstance(entry, dict) else entry)
        size = entry.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _type_error(where, f"files[{rel!r}].bytes", "a byte count", size)


def check_manifest(manifest: Any, where: str | os.PathLike) -> dict[str, Any]:
    """The schema check (one place): format, version, types of every field; SnncError naming ``where``."""
    where = str(where)
    if not isinstance(manifest, dict):
        raise SnncError(f"{where}: not an snnc artifact manifest (a JSON object with format {FORMAT!r})")
    if manifest.get("format") != FORMAT:
        raise SnncError(f"{where}: not an snnc artifact manifest (format {manifest.get('format')!r}, "
                        f"expected {FORMAT!r})")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        older = " (written by an older snnc, without file hashes)" if version == 1 else ""
        raise SnncError(f"{where}: format_version {json.dumps(version)} is not supported{older}; this snnc reads "
                        f"version {FORMAT_VERSION}: recompile the artifact with `snnc compile`")
    for key, want in (("snnc_version", str), ("target", str), ("inputs", list), ("passes", list),
                      ("versions", dict)):
        if not isinstance(manifest.get(key), want):
            raise _type_error(where, key, "a string" if want is str else f"a JSON {want.__name__}",
                              manifest.get(key))
    if not all(isinstance(p, str) for p in manifest["passes"]):
        raise _type_error(where, "passes", "a list of pass names", manifest["passes"])
    _check_options(manifest.get("options"), where)
    _check_files(manifest.get("files"), where)
    return manifest


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """``directory/manifest.json``, parsed and schema-checked (no file hashing)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise SnncError(f"{path}: missing: {directory} is not a verifiable snnc artifact "
                        f"(write it with `snnc compile`)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SnncError(f"{path}: not valid JSON ({str(e).splitlines()[0][:100]})") from None
    return check_manifest(data, path)


def verify_artifact(directory: str | os.PathLike, *, allow_extra: bool = True) -> dict[str, Any]:
    """The checked manifest of ``directory``, after comparing every listed file's size and sha256."""
    root = Path(directory)
    manifest = read_manifest(root)
    for rel, entry in sorted(manifest["files"].items()):
        f = root / rel
        if not f.is_file():
            raise SnncError(f"{f}: listed in {root / MANIFEST} but missing: {CHANGED}")
        if f.stat().st_size != entry["bytes"]:
            raise SnncError(f"{f}: size {f.stat().st_size} bytes differs from the manifest's {entry['bytes']}: "
                            f"{CHANGED}")
        if sha256_file(f) != entry["sha256"]:
            raise SnncError(f"{f}: sha256 differs from the manifest: {CHANGED}")
    if not allow_extra:
        extra = [rel for rel in list_files(root) if rel not in manifest["files"]]
        if extra:
            raise SnncError(f"{root / extra[0]}: not listed in {root / MANIFEST} ({len(extra)} such file(s))")
    return manifest


def _is_artifact(directory: Path) -> bool:
    """A manifest.json beside a graph.nir, or one that declares the snnc format (another tool's
    manifest.json in a user's folder does not make it an artifact)."""
    if not (directory / MANIFEST).is_file():
        return False
    if (directory / "graph.nir").is_file():
        return True
    try:
        return json.loads((directory / MANIFEST).read_text()).get("format") == FORMAT
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return False


def artifact_root(path: str | os.PathLike) -> Path | None:
    """The artifact directory ``path`` is or lies in (``ART``, ``ART/graph.nir``, ``ART/lava/x``), else None."""
    p = Path(path)
    if p.is_dir():
        cands = [p, p.parent] if p.name == "lava" else [p]
    else:
        cands = [p.parent, p.parent.parent] if p.parent.name == "lava" else [p.parent]
    return next((c for c in cands if _is_artifact(c)), None)


def _version1_listing(directory: Path) -> set[str] | None:
    """The top-level names a format_version 1 manifest lists (None for any other manifest)."""
    try:
        doc = json.loads((directory / MANIFEST).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    files = doc.get("files")
    if doc.get("format") != FORMAT or doc.get("format_version") != 1 or not isinstance(files, list) \
            or not all(isinstance(f, str) for f in files):
        return None
    return {f for f in files if "/" not in f and f not in ("", ".", "..")}


def check_replaceable(directory: str | os.PathLike, what: str = "-o") -> None:
    """Refuse to replace ``directory`` unless it is absent, empty, or an snnc artifact holding only the
    files its manifest lists (nothing the user added would be lost)."""
    d = Path(directory)
    if d.is_symlink():
        raise SnncError(f"{what} {directory}: is a symbolic link; give the real directory")
    if not d.exists():
        return
    if not d.is_dir():
        raise SnncError(f"{what} {directory}: exists and is not a directory")
    if not any(d.iterdir()):
        return
    if not (d / MANIFEST).is_file():
        raise SnncError(f"{what} {directory}: exists and is not an snnc artifact (no {MANIFEST}); refusing to "
                        f"replace it: choose a new directory")
    listed = _version1_listing(d)  # an artifact of an older snnc can be recompiled in place
    if listed is None:
        try:
            listed = set(read_manifest(d)["files"])
        except SnncError as e:
            raise SnncError(f"{what} {directory}: not replaced: {e}") from None
    extra = [rel for rel in list_files(d) if rel not in listed and rel.split("/")[0] not in listed]
    if extra:
        raise SnncError(f"{what} {directory}: not replaced: {d / extra[0]} is not part of the artifact "
                        f"({len(extra)} unlisted file(s)); move them or choose another directory")
