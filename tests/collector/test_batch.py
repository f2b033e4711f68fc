"""Batcher: flush at max_rows or max_age, bounded buffer, drain on stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from clew.collector.batch import Batcher, Row
from clew.collector.errors import BufferFull

WAIT = 10.0  # generous bound for a flush that is due now; never a speed assertion


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[Row]] = []
        self.flushed = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, rows: list[Row]) -> None:
        self.gate.wait(WAIT)
        self.batches.append(rows)
        self.flushed.set()


@pytest.fixture
def sink() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.gate.set()


def _rows(count: int, start: int = 0) -> list[Row]:
    return [{"n": n} for n in range(start, start + count)]


def test_flushes_when_max_rows_reached(sink: Recorder) -> None:
    batcher = Batcher(sink, max_rows=3, max_age=3600, max_buffer=100)
    batcher.start()
    batcher.add(_rows(2))
    assert not sink.flushed.wait(0.2)
    batcher.add(_rows(2, 2))
    assert sink.flushed.wait(WAIT)
    assert sink.batches == [_rows(4)]  # the whole buffer goes once max_rows is reached
    batcher.stop()


def test_flushes_when_oldest_row_is_max_age_old(sink: Recorder) -> None:
    batcher = Batcher(sink, max_rows=1000, max_age=0.05, max_buffer=10_000)
    batcher.start()
    batcher.add(_rows(1))
    assert sink.flushed.wait(WAIT)
    assert sink.batches == [_rows(1)]
    batcher.stop()


def test_buffer_is_bounded_while_a_write_is_slow(sink: Recorder) -> None:
    sink.gate.clear()  # the sink blocks, as a slow insert would
    batcher = Batcher(sink, max_rows=2, max_age=3600, max_buffer=5)
    batcher.start()
    batcher.add(_rows(2))  # taken by the (blocked) sink but still counted
    batcher.add(_rows(3, 2))
    assert batcher.depth == 5
    with pytest.raises(BufferFull):
        batcher.add(_rows(1, 5))
    sink.gate.set()
    batcher.stop()
    assert sum(len(batch) for batch in sink.batches) == 5


def test_stop_drains_everything_and_then_refuses(sink: Recorder) -> None:
    batcher = Batcher(sink, max_rows=100, max_age=3600, max_buffer=100)
    batcher.start()
    batcher.add(_rows(10))
    batcher.stop()
    assert [row for batch in sink.batches for row in batch] == _rows(10)
    with pytest.raises(BufferFull, match="shutting down"):
        batcher.add(_rows(1))


def test_weighted_items_count_as_their_rows(sink: Recorder) -> None:
    batcher = Batcher(sink, max_rows=300, max_age=3600, max_buffer=500)
    batcher.start()
    batcher.add(["request-a"], 200)
    assert batcher.depth == 200
    with pytest.raises(BufferFull):
        batcher.add(["request-b"], 301)
    batcher.add(["request-c"], 100)  # reaches max_rows: flushed now
    assert sink.flushed.wait(WAIT)
    batcher.stop()
    assert sink.batches == [["request-a", "request-c"]]


def test_empty_add_is_a_no_op(sink: Recorder) -> None:
    batcher = Batcher(sink, max_rows=1, max_age=0.01, max_buffer=1)
    batcher.start()
    batcher.add([])
    batcher.stop()
    assert sink.batches == []


def test_a_failing_sink_does_not_stop_later_batches(sink: Recorder) -> None:
    calls: list[list[Row]] = []
    first = threading.Event()

    def flaky(batch: list[Row]) -> None:
        calls.append(batch)
        if len(calls) == 1:
            first.set()
            raise RuntimeError("bug in a sink")
        sink(batch)

    batcher = Batcher(flaky, max_rows=1, max_age=3600, max_buffer=10)
    batcher.start()
    batcher.add(_rows(1))
    assert first.wait(WAIT)
    batcher.add(_rows(1, 1))
    assert sink.flushed.wait(WAIT)
    batcher.stop()
    assert len(calls) == 2 and sink.batches[-1] == _rows(1, 1)
