"""Building snnc's C++ kernels (``csrc/*.cpp``) on first use, once per process, never at import.

Each kernel module (:mod:`~snnc.backends.cpu.event_conv`, :mod:`~snnc.backends.cpu.lif_loop`,
:mod:`~snnc.backends.cpu.loihi_loop`, :mod:`~snnc.backends.cpu.fixed_conv` (its casts), the training kernels :mod:`~snnc.models.fused_lif`,
:mod:`~snnc.models.fused_asa` and :mod:`~snnc.models.spike_conv`) holds one :class:`NativeKernel`;
``torch.utils.cpp_extension.load`` compiles with gcc + ninja into torch's extension cache (``TORCH_EXTENSIONS_DIR``
or ~/.cache/torch_extensions; ~35 s the first time on this machine, then a ~0.1 s load; no network). A failed build or load warns ONCE and returns None, and
the caller runs its torch path: a missing compiler never breaks the simulator.

torch serialises builds with a ``lock`` file in the build folder and waits for it without limit; a build that
was killed leaves the file behind, and every later process would hang. :func:`clear_stale_lock` waits for a
live build, but removes a lock older than :data:`STALE_LOCK_SECONDS` (a build takes ~35 s) with one warning.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import torch

#: no fused multiply-add and no fast-math: the kernels must give the IEEE results of the separate operations
BASE_FLAGS = ["-O3", "-fopenmp", "-ffp-contract=off", "-fno-fast-math"]


def build_flags(stem: str) -> tuple[str, list[str]]:
    """(extension name, compiler flags) for this CPU; the name differs per instruction set, so a shared cache
    never hands an AVX2 build to a CPU without it."""
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        return f"{stem}_avx2", BASE_FLAGS + ["-mavx2"]
    return stem, list(BASE_FLAGS)


#: a build lock older than this was left by a killed build (a build takes ~35 s, minutes on a loaded machine)
STALE_LOCK_SECONDS = 600.0


def clear_stale_lock(build_dir: str | Path, stale_after: float = STALE_LOCK_SECONDS, poll: float = 0.5) -> bool:
    """Wait while ``build_dir/lock`` is younger than ``stale_after`` seconds (another process is building);
    remove it once older, with one warning naming it. True when a stale lock was removed."""
    lock = Path(build_dir) / "lock"
    while True:
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            return False
        if age >= stale_after:
            with contextlib.suppress(FileNotFoundError):  # another process may clear it first
                lock.unlink()
            warnings.warn(f"snnc: removed the stale C++ build lock {lock} ({age / 60:.0f} min old, left by a "
                          "build that was killed)", RuntimeWarning, stacklevel=3)
            return True
        time.sleep(min(poll, stale_after - age))


def _build_dir(name: str) -> str | None:
    """torch's build folder of extension ``name`` (private torch API, pinned torch; None if it moves)."""
    try:
        from torch.utils.cpp_extension import _get_build_directory

        return _get_build_directory(name, verbose=False)
    except Exception:  # noqa: BLE001 - no check rather than no kernel
        return None


def load_once(state: dict, lock: threading.Lock, name_and_flags: tuple[str, list[str]], source: Path,
              unavailable: str) -> Any:
    """``state["ext"]``, building it on the first call; None (after one warning ``unavailable: <error>``)
    when the build fails. ``state`` holds "ext" and "failed"."""
    if state["ext"] is not None or state["failed"]:
        return state["ext"]
    with lock:
        if state["ext"] is None and not state["failed"]:
            name, flags = name_and_flags
            try:
                from torch.utils.cpp_extension import load

                build_dir = _build_dir(name)
                if build_dir is not None:
                    clear_stale_lock(build_dir)
                state["ext"] = load(name=name, sources=[str(source)], extra_cflags=flags,
                                    extra_ldflags=["-fopenmp"], verbose=False)
            except Exception as err:  # any build/load failure: the torch path, never a crash
                state["failed"] = True
                text = str(err).strip()
                warnings.warn(f"snnc: {unavailable} ({type(err).__name__}: {text.splitlines()[-1] if text else err})",
                              RuntimeWarning, stacklevel=3)
    return state["ext"]


@contextlib.contextmanager
def switched_off(state: dict):
    """Within this block ``state["enabled"]`` is False (the kernel's caller runs its torch reference path)."""
    before = state["enabled"]
    state["enabled"] = False
    try:
        yield
    finally:
        state["enabled"] = before


class NativeKernel:
    """One C++ kernel module built on first use: ``extension()`` (None after one warning ``unavailable: …`` when
    it cannot be built), its build state, and a switch: within ``disabled()`` its caller runs the reference
    path (the kernel's oracle in the tests)."""

    def __init__(self, stem: str, source: Path, unavailable: str) -> None:
        self.stem, self.source, self.unavailable = stem, source, unavailable
        self.state: dict = {"ext": None, "failed": False, "enabled": True}
        self.lock = threading.Lock()

    def extension(self) -> Any:
        return load_once(self.state, self.lock, build_flags(self.stem), self.source, self.unavailable)

    def enabled(self) -> bool:
        return self.state["enabled"]

    def disabled(self):
        return switched_off(self.state)

