"""Atomic outputs: write to a temporary path beside the target, rename at the end.

A failure in the middle never leaves a partial file or directory behind, and a process killed in the
middle leaves only temporaries named ``.<name>.snnc-<pid>-<random>.tmp`` (or ``.old``): the next
command writing into the same directory removes those of dead processes
(:func:`remove_stale_temporaries`). While a process writes ``<name>``, the lock file
``.<name>.lock`` (beside it, holding its pid, created with O_EXCL) refuses a second writer
(:func:`output_lock`); a lock whose pid is dead is stale and taken over.

An existing artifact directory is replaced only if it is an snnc artifact (or empty), and atomically:
the new directory and the old one are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call, so the
old artifact stays complete until the new one is in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

from snnc.errors import SnncError

TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.snnc-(?P<pid>\d+)-[A-Za-z0-9_]+\.(?P<kind>tmp|old)$")
LOCK_NAME = re.compile(r"^\.(?P<name>.+)\.lock$")
_HELD: dict[str, int] = {}  # lock files this process holds -> nesting depth (locks are reentrant)


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


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0; a process of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_prefix(target: Path) -> str:
    """``.<name>.snnc-<pid>-``: the start of this process's temporaries for ``target``."""
    return f".{target.name}.snnc-{os.getpid()}-"


def _read_pid(lock: Path) -> int | None:
    for _ in range(20):  # a writer creates the file, then writes its pid: wait for the pid briefly
        try:
            text = lock.read_text().strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        if text:
            return int(text) if text.isdigit() else None
        time.sleep(0.01)
    return None


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Remove the temporaries and locks in ``directory`` left by dead snnc processes; returns them.

    A dead process's ``.old`` directory whose target is missing (killed between the two renames of
    the fallback replacement) is renamed back instead."""
    d = Path(directory)
    removed: list[Path] = []
    try:
        entries = list(d.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = TEMP_NAME.match(entry.name)
        if m and not pid_alive(int(m["pid"])):
            with contextlib.suppress(OSError):
                if m["kind"] == "old" and not (d / m["name"]).exists():
                    os.rename(entry, d / m["name"])
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry)
        elif LOCK_NAME.match(entry.name) and entry.is_file():
            pid = _read_pid(entry)
            if pid is not None and not pid_alive(pid) and str(entry.resolve()) not in _HELD:
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def _acquire(lock: Path, target: Path, what: str) -> None:
    for _ in range(5):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _read_pid(lock)
            if pid is not None and pid != os.getpid() and pid_alive(pid):
                raise SnncError(f"{what} {target}: being written by snnc pid {pid} (lock {lock}); wait for it, "
                                f"or delete the lock if that process is not snnc") from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # stale: its writer is dead
            continue
        except OSError as e:
            raise SnncError(f"{what} {target}: cannot write in {str(lock.parent)!r} ({e.strerror})") from None
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        return
    raise SnncError(f"{what} {target}: could not take the lock {lock}")


@contextlib.contextmanager
def output_lock(path: str | os.PathLike, what: str = "output") -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``path`` (reentrant within a process); first remove the dead
    processes' temporaries in that directory. No-op when the parent directory does not exist."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        yield
        return
    lock = parent / f".{target.name}.lock"
    key = str(lock.resolve())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    remove_stale_temporaries(parent)
    _acquire(lock, target, what)
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        if _read_pid(lock) == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, what: str = "output") -> Iterator[Path]:
    """Yield a temporary file path; on success rename it onto ``path``, on error delete it."""
    target = check_writable_target(path, what)
    with output_lock(target, what):
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent or ".")
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            os.replace(tmp_path, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()
            raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # not supported by this kernel/filesystem
        return False
    raise OSError(err, os.strerror(err), str(b))


def _move_into_place(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.rename(tmp, target)
        return
    if _exchange(tmp, target):  # tmp now holds the old artifact
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = target.parent / f"{temp_prefix(target)}{os.urandom(4).hex()}.old"
    os.rename(target, old)  # killed here: the next run renames .old back (remove_stale_temporaries)
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, what: str = "output directory") -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``path`` (an artifact directory).

    An existing ``path`` must be empty or an snnc artifact with no unlisted files
    (:func:`snnc.artifact_manifest.check_replaceable`); it is checked before and again right before
    the exchange, and stays complete until then."""
    from snnc.artifact_manifest import check_replaceable

    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise SnncError(f"{what} {str(target)!r}: parent {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise SnncError(f"{what} {str(target)!r}: parent {str(parent)!r} is not writable")
    if target.exists() and not target.is_dir():
        raise SnncError(f"{what} {str(target)!r} exists and is not a directory")
    with output_lock(target, what):
        check_replaceable(target, what)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(target), suffix=".tmp", dir=parent))
        try:
            yield tmp
            check_replaceable(target, what)
            _move_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
