"""Atomic outputs: write to a temporary path beside the target, rename at the end.

A failure in the middle never leaves a partial file or directory behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from snnc.errors import SnncError


def check_writable_target(path: str | os.PathLike, what: str = "output") -> Path:
    """Fail early, with one line, if ``path`` cannot be written (missing or read-only parent)."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise SnncError(f"{what} path {str(p)!r}: directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise SnncError(f"{what} path {str(p)!r}: {str(parent)!r} is not a directory")
    if not os.access(parent, os.W_OK):
        raise SnncError(f"{what} path {str(p)!r}: directory {str(parent)!r} is not writable")
    if p.exists() and p.is_dir() and what != "directory":
        raise SnncError(f"{what} path {str(p)!r} is a directory")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, what: str = "output") -> Iterator[Path]:
    """Yield a temporary file path; on success rename it onto ``path``, on error delete it."""
    target = check_writable_target(path, what)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``path`` (an artifact directory)."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise SnncError(f"output directory {str(target)!r}: parent {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise SnncError(f"output directory {str(target)!r}: parent {str(parent)!r} is not writable")
    if target.exists() and not target.is_dir():
        raise SnncError(f"output directory {str(target)!r} exists and is not a directory")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            os.replace(target, old / "x")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
