"""Temporaries and locks of snnc.io (issue 12).

* A ``snnc compile`` killed with SIGKILL while it writes leaves nothing at the final path, only
  temporaries named with its pid; the next command writing into the same directory removes them.
* A lock held by a live process refuses a second writer ("being written by snnc pid N"); a lock of a
  dead process is stale and taken over.
* The fallback replacement (no renameat2) killed between its two renames is undone by the next run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snnc.errors import SnncError
from snnc.io import atomic_dir, atomic_path, output_lock, remove_stale_temporaries
from snnc_testing import run_cli, tiny_checkpoint

SNNC = Path(sys.executable).parent / "snnc"


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.fixture
def live_pid():
    p = subprocess.Popen(["sleep", "60"])
    yield p.pid
    p.kill()
    p.wait()


def _compile_and_kill(workdir: Path, out: Path) -> list[str] | None:
    """Start ``snnc compile`` into ``out``; SIGKILL it as soon as its temporary directory appears.
    Returns the temporaries seen, or None when the run finished before one was seen."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([str(SNNC), "compile", str(workdir / "m.pt"), "--target", "cpu", "--calibrate", "2",
                             "--holdout", "0", "-o", str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    seen = None
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        tmps = [n for n in os.listdir(workdir) if n.startswith(f".{out.name}.snnc-{proc.pid}-") and n.endswith(".tmp")]
        if tmps:
            os.kill(proc.pid, signal.SIGKILL)
            seen = tmps
            break
        time.sleep(0.002)
    proc.wait()
    return seen if proc.returncode == -signal.SIGKILL else None


@pytest.mark.skipif(not SNNC.exists(), reason="needs the installed snnc console script")
def test_sigkill_leaves_nothing_final_and_the_next_run_cleans_up(capsys, tmp_path):
    tiny_checkpoint(tmp_path / "m.pt")
    for attempt in range(4):  # the window is short: retry if the run finished before it was seen
        out = tmp_path / f"art{attempt}"
        seen = _compile_and_kill(tmp_path, out)
        if seen:
            break
    assert seen, "never caught snnc compile while its temporary directory existed"
    assert not out.exists()
    names = os.listdir(tmp_path)
    assert seen[0] in names and f".{out.name}.lock" in names  # the dead writer's temporaries and lock
    # the next command writing into the same directory removes them, then writes its own output
    code, _, err = run_cli(capsys, "export", tmp_path / "m.pt", "-o", tmp_path / "m.nir")
    assert code == 0, err
    assert sorted(n for n in os.listdir(tmp_path) if not n.startswith("art")) == ["m.nir", "m.pt"]
    assert not any(n.startswith(".") for n in os.listdir(tmp_path))


def test_a_live_writer_lock_refuses_a_second_writer(capsys, tmp_path, live_pid):
    tiny_checkpoint(tmp_path / "m.pt")
    (tmp_path / ".m.nir.lock").write_text(f"{live_pid}\n")
    code, out, err = run_cli(capsys, "export", tmp_path / "m.pt", "-o", tmp_path / "m.nir")
    assert code == 2 and not out
    assert err.strip().splitlines() == [f"snnc: error: -o {tmp_path / 'm.nir'}: being written by snnc pid {live_pid} "
                                        f"(lock {tmp_path / '.m.nir.lock'}); wait for it, or delete the lock if that "
                                        f"process is not snnc"]
    assert sorted(os.listdir(tmp_path)) == [".m.nir.lock", "m.pt"]
    (tmp_path / ".m.nir.lock").write_text(f"{dead_pid()}\n")  # its writer died: stale, taken over
    code, _, err = run_cli(capsys, "export", tmp_path / "m.pt", "-o", tmp_path / "m.nir")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path)) == ["m.nir", "m.pt"]


@pytest.mark.skipif(not SNNC.exists(), reason="needs the installed snnc console script")
def test_two_compiles_into_one_directory_the_second_is_refused(capsys, tmp_path):
    """A second ``snnc compile -o ART`` while a first one runs is refused naming the first's pid; the
    first completes a valid artifact."""
    from snnc.artifact_manifest import verify_artifact

    tiny_checkpoint(tmp_path / "m.pt")
    args = ["compile", str(tmp_path / "m.pt"), "--target", "cpu", "--calibrate", "2", "--holdout", "0", "-o",
            str(tmp_path / "ART")]
    first = subprocess.Popen([str(SNNC), *args], env={**os.environ, "OMP_NUM_THREADS": "1"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (tmp_path / ".ART.lock").exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    code, out, err = run_cli(capsys, *args)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert code == 2 and not out and len(err.strip().splitlines()) == 1
    assert f"-o {tmp_path / 'ART'}: being written by snnc pid {first.pid}" in err
    verify_artifact(tmp_path / "ART", allow_extra=False)
    assert sorted(os.listdir(tmp_path)) == ["ART", "m.pt"]


def test_stale_temporaries_of_dead_pids_only_are_removed(tmp_path, live_pid):
    dead = dead_pid()
    (tmp_path / f".a.snnc-{dead}-x1.tmp").write_text("")
    (tmp_path / f".b.snnc-{dead}-x2.tmp").mkdir()
    (tmp_path / f".c.snnc-{live_pid}-x3.tmp").write_text("")  # its writer is alive: kept
    (tmp_path / f".d.lock").write_text(f"{dead}\n")
    (tmp_path / f".e.lock").write_text(f"{live_pid}\n")
    (tmp_path / ".f.x1.tmp").write_text("")  # not an snnc temporary (no pid): kept
    (tmp_path / "user.snnc-1-a.tmp").write_text("")  # not hidden: not ours
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted([f".a.snnc-{dead}-x1.tmp", f".b.snnc-{dead}-x2.tmp", ".d.lock"])
    assert sorted(os.listdir(tmp_path)) == sorted([f".c.snnc-{live_pid}-x3.tmp", ".e.lock", ".f.x1.tmp",
                                                   "user.snnc-1-a.tmp"])


def test_a_killed_fallback_replacement_is_rolled_back(tmp_path):
    """Killed between ``ART -> .ART.snnc-PID-R.old`` and ``tmp -> ART``: the next run renames .old back."""
    old = tmp_path / f".ART.snnc-{dead_pid()}-r.old"
    old.mkdir()
    (old / "graph.nir").write_bytes(b"old artifact")
    remove_stale_temporaries(tmp_path)
    assert os.listdir(tmp_path) == ["ART"] and (tmp_path / "ART" / "graph.nir").read_bytes() == b"old artifact"


def test_temporaries_carry_the_pid_and_locks_are_reentrant(tmp_path):
    with output_lock(tmp_path / "f.json"):
        assert (tmp_path / ".f.json.lock").read_text().strip() == str(os.getpid())
        with atomic_path(tmp_path / "f.json") as tmp:  # same process: the lock is reentrant
            assert tmp.name.startswith(f".f.json.snnc-{os.getpid()}-") and tmp.name.endswith(".tmp")
            tmp.write_text("{}")
        assert (tmp_path / ".f.json.lock").exists()
    assert os.listdir(tmp_path) == ["f.json"]


def test_failed_atomic_dir_leaves_nothing_and_keeps_the_old_artifact(tmp_path):
    from snnc.artifact_manifest import verify_artifact, write_manifest

    art = tmp_path / "ART"
    with atomic_dir(art) as tmp:
        (tmp / "graph.nir").write_bytes(b"v1")
        write_manifest(tmp, target="cpu")
    with pytest.raises(RuntimeError), atomic_dir(art) as tmp:
        (tmp / "graph.nir").write_bytes(b"v2, half written")
        raise RuntimeError("killed")
    assert verify_artifact(art)["files"]["graph.nir"]["bytes"] == 2
    assert (art / "graph.nir").read_bytes() == b"v1" and os.listdir(tmp_path) == ["ART"]
    (art / "notes.txt").write_text("mine")
    with pytest.raises(SnncError, match="notes.txt is not part of the artifact"), atomic_dir(art):
        pass
    assert (art / "notes.txt").exists() and sorted(os.listdir(tmp_path)) == ["ART"]


def test_an_artifact_of_an_older_snnc_can_be_recompiled_in_place(tmp_path):
    """format_version 1 (files: top-level names only) is refused for reading but may be replaced, unless
    it holds a file its list does not name."""
    import json

    from snnc.artifact_manifest import check_replaceable, verify_artifact

    art = tmp_path / "ART"
    (art / "lava").mkdir(parents=True)
    (art / "graph.nir").write_bytes(b"g")
    (art / "lava" / "spec.json").write_text("{}")
    (art / "manifest.json").write_text(json.dumps({"format": "snnc-artifact", "format_version": 1,
                                                   "files": ["graph.nir", "lava", "manifest.json"]}))
    with pytest.raises(SnncError, match="format_version 1 is not supported"):
        verify_artifact(art)
    check_replaceable(art)
    (art / "notes.txt").write_text("mine")
    with pytest.raises(SnncError, match="notes.txt is not part of the artifact"):
        check_replaceable(art)


@pytest.mark.parametrize("exchange", [True, False])
def test_replacing_an_artifact_with_and_without_renameat2(tmp_path, monkeypatch, exchange):
    import snnc.io as snnc_io
    from snnc.artifact_manifest import write_manifest

    if not exchange:
        monkeypatch.setattr(snnc_io, "_exchange", lambda a, b: False)
    art = tmp_path / "ART"
    for version in (b"v1", b"v2"):
        with atomic_dir(art) as tmp:
            (tmp / "graph.nir").write_bytes(version)
            write_manifest(tmp, target="cpu")
    assert (art / "graph.nir").read_bytes() == b"v2" and os.listdir(tmp_path) == ["ART"]
