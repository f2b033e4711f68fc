"""Spool: durable appends with group commit, ordered reads, checkpoints, recovery, bounds."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from clew.collector.errors import BodyTooLarge, BufferFull
from clew.collector.spool import Spool, SpoolFull
from clew.collector.spool.segments import list_segments, segment_path

MIB = 1024 * 1024


def _open(path: Path, **options: int) -> Spool:
    settings = {"max_bytes": 64 * MIB, "max_weight": 1_000_000, **options}
    return Spool(path, max_bytes=settings["max_bytes"], max_weight=settings["max_weight"])


def _append(spool: Spool, *payloads: bytes) -> list[int]:
    return [spool.append(payload, 2).result(10) for payload in payloads]


def test_appends_are_read_in_order_and_commit_frees_them(tmp_path: Path) -> None:
    spool = _open(tmp_path)
    assert _append(spool, b"a", b"b", b"c") == [1, 2, 3]
    assert spool.backlog_weight == 6 and spool.unread_weight == 6
    first = spool.read(max_weight=4)
    assert [(r.seq, r.payload, r.weight) for r in first] == [(1, b"a", 2), (2, b"b", 2)]
    spool.begin(2)
    spool.commit(2, 4)
    assert spool.backlog_weight == 2
    assert [r.payload for r in spool.read(max_weight=100)] == [b"c"]
    assert spool.read(max_weight=100) == []
    spool.close()


def test_concurrent_appends_share_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = []
    real = os.fdatasync

    def counting(fd: int) -> None:
        syncs.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counting)
    spool = _open(tmp_path)
    barrier = threading.Barrier(16)

    def client() -> None:
        barrier.wait()
        _append(spool, *(b"x" * 1000 for _ in range(50)))

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spool.close()
    print(f"800 appends, {len(syncs)} fdatasync calls")
    assert len(syncs) < 800  # group commit: waiting appenders are synced together
    assert sorted(r.seq for r in _open(tmp_path).read(10**9)) == list(range(1, 801))


def test_restart_returns_what_was_not_committed(tmp_path: Path) -> None:
    spool = _open(tmp_path)
    _append(spool, b"a", b"b", b"c", b"d")
    spool.read(max_weight=4)
    spool.begin(2)
    spool.commit(2, 4)
    spool.close()
    again = _open(tmp_path)
    assert again.backlog_weight == 4
    assert [r.payload for r in again.read(100)] == [b"c", b"d"]
    assert _append(again, b"e") == [5]  # numbers go on
    assert again.id == spool.id


def test_batch_in_flight_at_a_crash_is_replayed_exactly(tmp_path: Path) -> None:
    spool = _open(tmp_path)
    _append(spool, b"a", b"b", b"c", b"d", b"e")
    batch = spool.read(max_weight=6)
    spool.begin(batch[-1].seq)  # the insert starts ... and the process dies: no commit
    spool.close()
    again = _open(tmp_path)
    # Not max_weight's worth: the same three records, so the insert carries the same token.
    assert [r.seq for r in again.read(max_weight=1)] == [1, 2, 3]
    again.commit(3, 6)
    assert [r.seq for r in again.read(max_weight=1)] == [4]


def test_torn_tail_is_cut_off(tmp_path: Path) -> None:
    spool = _open(tmp_path)
    _append(spool, b"a", b"b")
    spool.close()
    last = segment_path(tmp_path, list_segments(tmp_path)[-1])
    size = last.stat().st_size
    with last.open("ab") as segment:  # half a record, as a crash in the middle of write(2)
        segment.write(b"\x10\x00\x00\x00garbage")
    again = _open(tmp_path)
    assert [r.payload for r in again.read(100)] == [b"a", b"b"]
    assert last.stat().st_size == size
    assert again.damaged == 1
    assert _append(again, b"c") == [3]


def test_damaged_record_is_not_read(tmp_path: Path) -> None:
    spool = _open(tmp_path)
    _append(spool, b"first", b"second")
    spool.close()
    last = segment_path(tmp_path, list_segments(tmp_path)[-1])
    data = bytearray(last.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the last payload: its CRC no longer matches
    last.write_bytes(bytes(data))
    assert [r.payload for r in _open(tmp_path).read(100)] == [b"first"]


def test_full_spool_refuses_with_spool_full_until_space_is_freed(tmp_path: Path) -> None:
    spool = _open(tmp_path, max_bytes=MIB)
    chunk = b"x" * (100 * 1024)
    seqs = []
    with pytest.raises(SpoolFull) as full:
        while True:
            seqs.append(spool.append(chunk, 1).result(10))
    assert full.value.reason == "spool_full" and full.value.retriable
    assert spool.bytes <= MIB
    records = spool.read(10**9)
    spool.begin(records[-1].seq)
    spool.commit(records[-1].seq, len(records))
    assert spool.bytes < MIB  # spent segments were deleted
    spool.append(chunk, 1).result(10)
    assert len(list_segments(tmp_path)) >= 1


def test_rows_not_yet_written_are_bounded(tmp_path: Path) -> None:
    spool = _open(tmp_path, max_weight=5)
    spool.append(b"a", 4).result(10)
    with pytest.raises(BufferFull) as full:
        spool.append(b"b", 2)
    assert full.value.reason == "buffer_full"


def test_numbers_are_not_reused_after_everything_was_deleted(tmp_path: Path) -> None:
    spool = _open(tmp_path)
    _append(spool, b"a", b"b")
    spool.read(100)
    spool.begin(2)
    spool.commit(2, 4)
    spool.close()
    for first in list_segments(tmp_path):
        segment_path(tmp_path, first).unlink()
    assert _append(_open(tmp_path), b"c") == [3]


def test_without_fsync_appends_complete_at_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=MIB, max_weight=100, fsync=False)
    assert spool.append(b"a", 1).done()
    assert [r.payload for r in spool.read(10)] == [b"a"]
    spool.close()


def test_closed_spool_refuses(tmp_path: Path) -> None:
    spool = _open(tmp_path)
    spool.close()
    with pytest.raises(BufferFull, match="shutting down"):
        spool.append(b"a", 1)


def test_batch_in_flight_whose_segment_is_gone_does_not_block_reading(tmp_path: Path) -> None:
    spool = _open(tmp_path, max_bytes=MIB)
    chunk = b"x" * (100 * 1024)
    for _ in range(3):
        spool.append(chunk, 1).result(10)
    spool.read(100)
    spool.begin(3)
    spool.close()
    for first in list_segments(tmp_path):  # as if the commit's deletions were durable
        segment_path(tmp_path, first).unlink()
    again = _open(tmp_path, max_bytes=MIB)
    again.append(b"new", 1).result(10)
    assert [r.payload for r in again.read(100)] == [b"new"]


def test_a_record_larger_than_the_spool_is_refused_for_good(tmp_path: Path) -> None:
    spool = _open(tmp_path, max_bytes=MIB)
    with pytest.raises(BodyTooLarge):
        spool.append(b"x" * (MIB + 1), 1)
