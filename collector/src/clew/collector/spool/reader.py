"""The spool's single reader: a cursor (segment, offset) moving through the records in order."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO

from clew.collector.spool.records import HEADER, Record, payload_size, unpack
from clew.collector.spool.segments import segment_path


class Reader:
    """Reads records in sequence order across segments; only the batcher thread uses it."""

    def __init__(
        self,
        directory: Path,
        sizes: dict[int, int],
        cursor: tuple[int, int],
        cond: threading.Condition,
    ) -> None:
        self._directory, self._sizes, self._cond = directory, sizes, cond
        self._segment, self._offset = cursor
        self._file: BinaryIO | None = None

    def take(self, limit: int, max_weight: int | None) -> list[Record]:
        """Records numbered up to `limit`, until they weigh `max_weight` (None: all of them)."""
        records: list[Record] = []
        weight = 0
        while max_weight is None or weight < max_weight:
            record = self._next(limit)
            if record is None:
                break
            records.append(record)
            weight += record.weight
        return records

    def peek_time(self) -> int:
        """Append time of the next record, 0 when there is none yet."""
        found = self._peek()
        return found[0].time_ns if found else 0

    def _next(self, limit: int) -> Record | None:
        found = self._peek()
        if found is None or found[0].seq > limit:
            return None
        record, size = found
        self._offset += size
        return record

    def _peek(self) -> tuple[Record, int] | None:
        while True:
            found = self._read_at_cursor()
            if found is not None:
                return found
            # The end of this segment: move on only when a later one exists, else wait.
            with self._cond:
                later = [first for first in self._sizes if first > self._segment]
            if not later:
                return None
            self._switch(min(later))

    def _read_at_cursor(self) -> tuple[Record, int] | None:
        file = self._open()
        file.seek(self._offset)
        header = file.read(HEADER.size)
        if len(header) < HEADER.size:
            return None
        payload = file.read(payload_size(header))
        record = unpack(header, payload)  # None too for a record still being written
        return (record, HEADER.size + len(payload)) if record is not None else None

    def _open(self) -> BinaryIO:
        if self._file is None:
            self._file = segment_path(self._directory, self._segment).open("rb")
        return self._file

    def _switch(self, first: int) -> None:
        self.close()
        self._segment, self._offset = first, 0

    def close(self) -> None:
        """Close the open segment file."""
        if self._file is not None:
            self._file.close()
            self._file = None
