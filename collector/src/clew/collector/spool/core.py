"""The spool of one signal: an append-only, size-bounded write-ahead log of accepted requests.

Appends from any thread are written at once and made durable by one flusher thread that
fsyncs for every appender waiting at that moment (group commit); an append's future completes
when its record is on disk. One reader (the batcher) takes records in order, announces each
batch's range durably before inserting it (so a batch replayed after a crash is the same batch,
with the same deduplication token), then commits it; inserted segments are deleted.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from clew.collector.errors import BodyTooLarge, BufferFull, ShuttingDown
from clew.collector.spool.checkpoint import Checkpoint
from clew.collector.spool.reader import Reader
from clew.collector.spool.records import Record, pack, payload_crc
from clew.collector.spool.segments import recover, segment_path

MIB = 1024 * 1024


class SpoolFull(BufferFull):
    """The spool holds spool_max_bytes; the client should retry later."""

    reason = "spool_full"


class Spool:
    """Append (any thread), read and commit (one reader thread); see the module docstring."""

    def __init__(
        self, directory: Path, *, max_bytes: int, max_weight: int, fsync: bool = True
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.max_bytes, self.max_weight, self.fsync = (
            directory,
            max_bytes,
            max_weight,
            fsync,
        )
        self.id = _spool_id(directory)
        self.segment_bytes = max(64 * 1024, min(64 * MIB, max_bytes // 8))
        self._checkpoint = Checkpoint(directory / "checkpoint")
        committed, in_flight = self._checkpoint.committed, self._checkpoint.in_flight
        found = recover(directory, committed)
        self.recovered_last = found.last_seq if found.last_seq > committed else committed
        self.damaged = found.damaged
        self.committed = committed
        self.backlog_weight = found.backlog_weight
        # Never reuse a number that may have been inserted: tokens are made of them.
        self._next = max(found.last_seq, committed, in_flight) + 1
        self._replay_until = in_flight if in_flight > committed else 0
        self._sizes = found.sizes
        self.bytes = sum(self._sizes.values())
        self.cond = threading.Condition()
        self._written = self._synced = self._next - 1
        self._waiting: list[tuple[int, int, int, Future[int]]] = []
        self._to_close: list[int] = []
        self._closing = False
        self._fd = self._open_segment(self._next)
        self.reader = Reader(directory, self._sizes, found.cursor or (self._active, 0), self.cond)
        self._delete_spent()
        self.unread_weight = found.backlog_weight
        self.oldest_unread_ns = self.reader.peek_time() if found.backlog_weight else 0
        self._flusher = threading.Thread(target=self._flush_loop, name="clew-spool-fsync")
        self._flusher.daemon = True
        self._flusher.start()

    def _open_segment(self, first: int) -> int:
        path = segment_path(self.directory, first)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        os.ftruncate(fd, 0)  # a segment named after the next number holds no valid record
        _sync_dir(self.directory)
        self._sizes[first] = 0
        self._active = first
        return fd

    def append(self, payload: bytes | list[bytes], weight: int) -> Future[int]:
        """Write one record (payload in parts or whole); the future completes, with the
        record's number, once it is durable."""
        parts = [payload] if isinstance(payload, bytes) else payload
        crc = payload_crc(parts)
        now = time.time_ns()
        with self.cond:
            if self._closing:
                raise ShuttingDown("the collector is shutting down")
            if self.backlog_weight + weight > self.max_weight:
                raise BufferFull(f"write buffer full ({self.backlog_weight} rows not yet written)")
            record = pack(self._next, weight, now, parts, crc)
            size = sum(len(part) for part in record)
            if size > self.max_bytes:  # it would never fit: a retry cannot help
                raise BodyTooLarge(f"request of {size} bytes exceeds the spool ({self.max_bytes})")
            if self.bytes + size > self.max_bytes and self.committed >= self._written:
                self._roll()  # everything was inserted: the active segment can go too
                self._delete_spent()
            if self.bytes + size > self.max_bytes:
                raise SpoolFull(f"spool full ({self.bytes} bytes of {self.max_bytes})")
            if self._sizes[self._active] + size > self.segment_bytes:
                self._roll()
            _write_all(self._fd, record, size)
            seq, self._next = self._next, self._next + 1
            self._written = seq
            self._sizes[self._active] += size
            self.bytes += size
            self.backlog_weight += weight
            done: Future[int] = Future()
            if self.fsync:
                self._waiting.append((seq, weight, now, done))
            else:
                self._readable(weight, now)
                done.set_result(seq)
            self.cond.notify_all()
        return done

    def _readable(self, weight: int, now: int) -> None:
        # Under the lock: what the reader may take now (durable records, when fsync is on).
        if not self.unread_weight:
            self.oldest_unread_ns = now
        self.unread_weight += weight

    def _roll(self) -> None:
        self._to_close.append(self._fd)
        self._fd = self._open_segment(self._next)

    def _flush_loop(self) -> None:
        while True:
            with self.cond:
                while not (self._waiting or self._to_close or self._closing):
                    self.cond.wait()
                waiting, self._waiting = self._waiting, []
                closing, self._to_close = self._to_close, []
                target, fd, stop = self._written, self._fd, self._closing
            for old in closing:
                os.fdatasync(old)
                os.close(old)
            if waiting or stop:
                os.fdatasync(fd)
            with self.cond:
                self._synced = max(self._synced, target)
                for _seq, weight, now, _done in waiting:
                    self._readable(weight, now)
                self.cond.notify_all()
            for seq, _weight, _now, done in waiting:
                done.set_result(seq)
            if stop and not waiting and not closing:
                return

    @property
    def readable(self) -> int:
        """The last record the reader may take: durable ones only, when fsync is on."""
        return self._synced if self.fsync else self._written

    def read(self, max_weight: int) -> list[Record]:
        """The next records in order, up to `max_weight`; after a crash, the batch in flight."""
        with self.cond:
            limit = self._replay_until or self.readable
        exact = bool(self._replay_until)
        records = self.reader.take(limit, None if exact else max_weight)
        if exact and not records:  # the batch in flight was inserted and its segment deleted
            self._replay_until = 0
            return self.read(max_weight)
        with self.cond:
            self.unread_weight -= sum(record.weight for record in records)
            if self.unread_weight:
                self.oldest_unread_ns = self.reader.peek_time() or time.time_ns()
        return records

    def begin(self, last: int) -> None:
        """Record durably that records up to `last` are being inserted."""
        self._checkpoint.write(self.committed, last, sync=True)

    def commit(self, last: int, weight: int) -> None:
        """Records up to `last` (worth `weight`) are inserted: move on, delete spent segments."""
        with self.cond:
            self.committed = last
            self.backlog_weight -= weight
            self._replay_until = 0
            self._delete_spent()
            self.cond.notify_all()
        self._checkpoint.write(last, last, sync=False)

    def _delete_spent(self) -> None:
        spent = [first for first in self._sizes if first != self._active and self._ends(first)]
        for first in spent:
            segment_path(self.directory, first).unlink(missing_ok=True)
            self.bytes -= self._sizes.pop(first)

    def _ends(self, first: int) -> bool:
        later = [other for other in self._sizes if other > first]
        return bool(later) and min(later) - 1 <= self.committed

    def close(self) -> None:
        """Refuse appends, sync everything written, and close the files."""
        with self.cond:
            if self._closing:
                return
            self._closing = True
            self.cond.notify_all()
        self._flusher.join()
        os.close(self._fd)
        self.reader.close()
        self._checkpoint.close()


def _write_all(fd: int, parts: list[bytes], size: int) -> None:
    written = os.writev(fd, parts)
    if written < size:  # rare (a signal, a full disk): the rest as one piece
        view = memoryview(b"".join(parts))[written:]
        while view:
            view = view[os.write(fd, view) :]


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _spool_id(directory: Path) -> str:
    """A random name given to the spool once: tokens of a new spool never match an old one's."""
    path = directory / "id"
    if not path.exists():
        scratch = directory / "id.new"
        scratch.write_text(secrets.token_hex(8))
        os.replace(scratch, path)
        _sync_dir(directory)
    return path.read_text().strip()
