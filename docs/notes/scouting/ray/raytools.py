"""Helpers for the Ray scouting prototypes: process tree, listening sockets, memory.

Only reads /proc and runs `ss`; never contacts any address.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMP_DIR = "/tmp/rayscout"  # short: Ray puts unix sockets under it (108-byte limit)


def children_tree(root: int) -> list[int]:
    """All descendant pids of `root` (root included), read from /proc."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent_of[int(entry.name)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parent_of.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sorted(tree)


def describe(pid: int) -> str:
    try:
        cmd = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    except OSError:
        return "?"
    return cmd[:110]


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def listening(pids: list[int]) -> list[tuple[str, str]]:
    """(local address:port, process) of every listening TCP/UDP socket owned by `pids`."""
    text = subprocess.run(["ss", "-H", "-tulnp"], capture_output=True, text=True).stdout
    rows = []
    for line in text.splitlines():
        owners = [int(p) for p in re.findall(r"pid=(\d+)", line)]
        if any(p in pids for p in owners):
            parts = line.split()
            name = re.search(r'\(\("([^"]+)"', line)
            rows.append((parts[0] + " " + parts[4], name.group(1) if name else "?"))
    return sorted(set(rows))


def non_loopback(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Rows whose local address is not 127.0.0.0/8 or [::1]."""
    bad = []
    for addr, name in rows:
        host = addr.split()[1].rsplit(":", 1)[0]
        if not (host.startswith(("127.", "[::ffff:127.")) or host == "[::1]"):
            bad.append((addr, name))
    return bad
