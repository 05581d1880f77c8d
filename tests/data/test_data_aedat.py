"""The AEDAT 3.1 reader against a writer of the documented format."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.data.aedat import cut_gestures, read_aedat31, read_labels_csv
from snnc.errors import SnncError

HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#Start-Time: 2017\r\n#!END-HEADER\r\n"


def packet(etype, words, capacity=None, overflow=0, esize=8):
    number = len(words)
    capacity = number if capacity is None else capacity
    head = struct.pack("<HHIIIIII", etype, 1, esize, 4, overflow, capacity, number, number)
    body = b"".join(struct.pack("<II", d, t) for d, t in words) + b"\0" * esize * (capacity - number)
    return head + body


def polarity_word(x, y, p, valid=1):
    return (x << 17) | (y << 2) | (p << 1) | valid


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 127), st.integers(0, 127), st.integers(0, 1), st.integers(0, 1),
                          st.integers(0, 2**31 - 1)), max_size=40),
       st.integers(0, 3), st.integers(0, 5))
def test_reader_decodes_written_events(tmp_path_factory, events, overflow, spare):
    path = tmp_path_factory.mktemp("aedat") / "rec.aedat"
    words = [(polarity_word(x, y, p, v), t) for x, y, p, v, t in events]
    half = len(words) // 2
    blob = HEADER + packet(1, words[:half], overflow=overflow) + packet(2, [(7, 7)] * 3)  # a non-polarity packet
    blob += packet(1, words[half:], capacity=len(words) - half + spare, overflow=overflow)
    path.write_bytes(blob)
    ev = read_aedat31(path)
    valid = [(x, y, p, (overflow << 31) | t) for x, y, p, v, t in events if v]
    assert [(int(e["x"]), int(e["y"]), int(e["p"]), int(e["t"])) for e in ev] == valid


def test_labels_and_cutting(tmp_path):
    csv = tmp_path / "user01_led_labels.csv"
    csv.write_text("class,startTime_usec,endTime_usec\n1,100,200\n11,200,350\n")
    rows = read_labels_csv(csv)
    assert rows == [(0, 100, 200), (10, 200, 350)]
    ev = np.zeros(5, dtype=[("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
    ev["t"] = [50, 100, 199, 200, 400]
    cuts = cut_gestures(ev, rows)
    assert [c[0]["t"].tolist() for c in cuts] == [[100, 199], [200]] and [c[1] for c in cuts] == [0, 10]


@pytest.mark.parametrize("blob, message", [
    (b"hello", "not an AEDAT 3.x file"),
    (b"#!AER-DAT3.1\r\n", "no '#!END-HEADER'"),
    (HEADER + b"\x01\x00\x01", "truncated packet header"),
    (HEADER + packet(1, [(1, 2)] * 3)[:-5], "truncated or inconsistent packet"),
])
def test_bad_files(tmp_path, blob, message):
    path = tmp_path / "bad.aedat"
    path.write_bytes(blob)
    with pytest.raises(SnncError, match=message):
        read_aedat31(path)
