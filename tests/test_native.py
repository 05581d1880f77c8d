"""The C++ build lock: a live build is waited for, a lock left by a killed build is removed (snnc/native.py)."""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest

from snnc.native import _build_dir, clear_stale_lock


def _lock(folder, age_seconds: float):
    lock = folder / "lock"
    lock.touch()
    then = time.time() - age_seconds
    os.utime(lock, (then, then))
    return lock


def test_no_lock_returns_at_once(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clear_stale_lock(tmp_path) is False


def test_a_stale_lock_is_removed_with_one_warning_naming_it(tmp_path):
    lock = _lock(tmp_path, age_seconds=3600)
    with pytest.warns(RuntimeWarning, match="stale C\\+\\+ build lock .*lock \\(60 min old") as record:
        assert clear_stale_lock(tmp_path, stale_after=600) is True
    assert len(record) == 1 and not lock.exists()


def test_a_live_build_is_waited_for_and_its_lock_kept(tmp_path):
    lock = _lock(tmp_path, age_seconds=0)
    released = threading.Timer(0.3, lock.unlink)  # the other process finishes its build
    released.start()
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clear_stale_lock(tmp_path, stale_after=60, poll=0.05) is False
    assert time.monotonic() - start >= 0.25
    released.join()


def test_a_lock_that_goes_stale_while_waiting_is_removed(tmp_path):
    lock = _lock(tmp_path, age_seconds=0.9)  # its builder was killed just before this process started
    start = time.monotonic()
    with pytest.warns(RuntimeWarning, match="stale"):
        assert clear_stale_lock(tmp_path, stale_after=1.0, poll=0.05) is True
    assert not lock.exists() and time.monotonic() - start < 1.0


def test_the_checked_folder_is_torchs_build_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    assert _build_dir("snnc_probe") == str(tmp_path / "snnc_probe")
