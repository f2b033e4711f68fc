"""Batcher: spooled items flushed at max_rows or max_age, bounded, drained, replayed in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clew.collector.batch import Batcher, Stopped
from clew.collector.errors import BufferFull
from clew.collector.spool import JsonRows, Spool

WAIT = 10.0  # generous bound for a flush that is due now; never a speed assertion
MIB = 1024 * 1024


class Recorder:
    """A sink that records (rows, token) per batch; `gate` holds it as a slow insert would."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[Any], str]] = []
        self.flushed = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.stop_with: Exception | None = None

    def __call__(self, items: list[Any], token: str) -> int:
        self.gate.wait(WAIT)
        if self.stop_with is not None:
            raise self.stop_with
        rows = [row for item in items for row in _rows_of(item)]
        self.batches.append((rows, token))
        self.flushed.set()
        return 0

    @property
    def rows(self) -> list[Any]:
        return [row for rows, _ in self.batches for row in rows]


def _rows_of(item: Any) -> list[Any]:
    import orjson

    assert isinstance(item, JsonRows)
    rows: list[Any] = orjson.loads(item.data)
    return rows


@pytest.fixture
def sink() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.gate.set()


def _batcher(path: Path, sink: Recorder, **options: Any) -> Batcher:
    spool = Spool(path, max_bytes=64 * MIB, max_weight=options.pop("max_buffer", 10_000))
    return Batcher(spool, sink, **{"max_rows": 1000, "max_age": 3600, **options})


def _rows(count: int, start: int = 0) -> list[dict[str, int]]:
    return [{"n": n} for n in range(start, start + count)]


def test_flushes_when_max_rows_reached(tmp_path: Path, sink: Recorder) -> None:
    batcher = _batcher(tmp_path, sink, max_rows=3)
    batcher.start()
    batcher.add(_rows(2)).result(WAIT)
    assert not sink.flushed.wait(0.2)
    batcher.add(_rows(2, 2)).result(WAIT)
    assert sink.flushed.wait(WAIT)
    assert sink.rows == _rows(4)  # what is spooled goes once max_rows is reached
    batcher.stop()


def test_flushes_when_oldest_row_is_max_age_old(tmp_path: Path, sink: Recorder) -> None:
    batcher = _batcher(tmp_path, sink, max_age=0.05)
    batcher.start()
    batcher.add(_rows(1)).result(WAIT)
    assert sink.flushed.wait(WAIT)
    assert sink.rows == _rows(1)
    batcher.stop()


def test_rows_not_written_are_bounded_while_a_write_is_slow(tmp_path: Path, sink: Recorder) -> None:
    sink.gate.clear()  # the sink blocks, as a slow insert would
    batcher = _batcher(tmp_path, sink, max_rows=2, max_buffer=5)
    batcher.start()
    batcher.add(_rows(2)).result(WAIT)  # taken by the (blocked) sink but still counted
    batcher.add(_rows(3, 2)).result(WAIT)
    assert batcher.depth == 5
    with pytest.raises(BufferFull):
        batcher.add(_rows(1, 5))
    sink.gate.set()
    batcher.stop()
    assert sink.rows == _rows(5)
    assert batcher.depth == 0


def test_stop_drains_everything_and_then_refuses(tmp_path: Path, sink: Recorder) -> None:
    batcher = _batcher(tmp_path, sink)
    batcher.start()
    batcher.add(_rows(10)).result(WAIT)
    batcher.stop()
    assert sink.rows == _rows(10)
    with pytest.raises(BufferFull, match="shutting down"):
        batcher.add(_rows(1))


def test_tokens_name_the_spool_range(tmp_path: Path, sink: Recorder) -> None:
    batcher = _batcher(tmp_path, sink, max_rows=2, name="logs")
    batcher.start()
    for n in range(4):
        batcher.add(_rows(1, n)).result(WAIT)
    batcher.stop()
    tokens = [token for _, token in sink.batches]
    spool_id = batcher.spool.id
    assert tokens == [f"clew:spool:{spool_id}:logs:1-2", f"clew:spool:{spool_id}:logs:3-4"]


def test_a_batch_the_sink_gave_up_is_replayed_after_a_restart(
    tmp_path: Path, sink: Recorder
) -> None:
    sink.stop_with = Stopped()  # the store was down when the collector stopped
    batcher = _batcher(tmp_path, sink, max_rows=3)
    batcher.start()
    for n in range(5):
        batcher.add(_rows(1, n)).result(WAIT)
    batcher.stop()
    assert sink.batches == []
    sink.stop_with = None
    replayed: list[int] = []
    again = _batcher(tmp_path, sink, max_rows=100, replayed=replayed.append)
    assert again.depth == 5
    again.start()
    again.stop()
    # First the batch that was in flight, exactly (same token), then the rest, in order.
    assert [len(rows) for rows, _ in sink.batches] == [3, 2]
    assert sink.batches[0][1].endswith(":1-3")
    assert sink.rows == _rows(5)
    assert sum(replayed) == 5 and again.replayed == 5


def test_empty_add_is_a_no_op(tmp_path: Path, sink: Recorder) -> None:
    batcher = _batcher(tmp_path, sink, max_rows=1, max_age=0.01)
    batcher.start()
    batcher.add([]).result(WAIT)
    batcher.stop()
    assert sink.batches == []
