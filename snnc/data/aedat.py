"""A small reader for the original DVS128 Gesture files: AEDAT 3.1 recordings and label CSVs.

AEDAT 3.1: text header lines starting with ``#`` (the first ``#!AER-DAT3.1``), ended by the line
``#!END-HEADER``; then binary packets, each a 28-byte little-endian header (eventType u16,
eventSource u16, eventSize u32, eventTSOffset u32, eventTSOverflow u32, eventCapacity u32,
eventNumber u32, eventValid u32) followed by eventCapacity * eventSize bytes of events. Polarity
events (type 1, 8 bytes: u32 data, u32 timestamp [us]) decode as x = (data >> 17) & 0x1FFF,
y = (data >> 2) & 0x1FFF, p = (data >> 1) & 1, valid = data & 1; full t = (overflow << 31) | ts.
Only the first eventNumber events of a packet are decoded; invalid events and packets of other
types are skipped (tonic 1.7.0's reader does neither).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from snnc.data.synthetic import EVENT_DTYPE
from snnc.errors import SnncError

_PACKET = struct.Struct("<HHIIIIII")
POLARITY_EVENT = 1


def read_aedat31(path: str | Path) -> np.ndarray:
    """Valid polarity events (EVENT_DTYPE, t in us, file order) of an AEDAT 3.1 file."""
    data = Path(path).read_bytes()
    if not data.startswith(b"#!AER-DAT3"):
        raise SnncError(f"{path}: not an AEDAT 3.x file (missing '#!AER-DAT3' header)")
    end = data.find(b"#!END-HEADER")
    if end < 0:
        raise SnncError(f"{path}: AEDAT header has no '#!END-HEADER' line")
    pos = data.index(b"\n", end) + 1
    chunks = []
    while pos < len(data):
        if pos + _PACKET.size > len(data):
            raise SnncError(f"{path}: truncated packet header at byte {pos}")
        etype, _src, esize, _off, overflow, capacity, number, _valid = _PACKET.unpack_from(data, pos)
        pos += _PACKET.size
        payload = capacity * esize
        if pos + payload > len(data) or number > capacity:
            raise SnncError(f"{path}: truncated or inconsistent packet at byte {pos - _PACKET.size}")
        if etype == POLARITY_EVENT and esize == 8 and number:
            words = np.frombuffer(data, dtype="<u4", count=2 * number, offset=pos).reshape(number, 2)
            d, ts = words[:, 0].astype(np.int64), words[:, 1].astype(np.int64)
            keep = (d & 1) == 1
            ev = np.empty(int(keep.sum()), dtype=EVENT_DTYPE)
            ev["x"], ev["y"] = (d[keep] >> 17) & 0x1FFF, (d[keep] >> 2) & 0x1FFF
            ev["p"], ev["t"] = ((d[keep] >> 1) & 1) == 1, (overflow << 31) | ts[keep]
            chunks.append(ev)
        pos += payload
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=EVENT_DTYPE)


def read_labels_csv(path: str | Path) -> list[tuple[int, int, int]]:
    """Rows (label 0..10, start_us, end_us) of a ``userNN_<lighting>_labels.csv`` (class column 1..11)."""
    rows = []
    for i, line in enumerate(Path(path).read_text().splitlines()):
        parts = [p.strip() for p in line.split(",")]
        if i == 0 and not parts[0].isdigit():
            continue  # header: class,startTime_usec,endTime_usec
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise SnncError(f"{path}: line {i + 1}: expected class,startTime_usec,endTime_usec")
        rows.append((int(parts[0]) - 1, int(parts[1]), int(parts[2])))
    return rows


def cut_gestures(events: np.ndarray, rows: list[tuple[int, int, int]]) -> list[tuple[np.ndarray, int]]:
    """One (events with start <= t < end, label) pair per label row; t kept absolute."""
    return [(events[(events["t"] >= s) & (events["t"] < e)], lab) for lab, s, e in rows]
