"""Segment files of the spool: names, sequential reading, and the scan made at start-up.

A segment is named after the sequence number of its first record and only ever appended to;
a segment is deleted once every record in it was inserted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from clew.collector.spool.records import HEADER, Record, payload_size, unpack

log = logging.getLogger(__name__)
SUFFIX = ".seg"


def segment_path(directory: Path, first: int) -> Path:
    """The file of the segment whose first record is `first`."""
    return directory / f"{first:020d}{SUFFIX}"


def list_segments(directory: Path) -> list[int]:
    """First sequence numbers of the segments in `directory`, in order."""
    return sorted(int(p.name[: -len(SUFFIX)]) for p in directory.glob(f"*{SUFFIX}"))


def read_records(file: BinaryIO, offset: int) -> Iterator[tuple[Record, int]]:
    """Records from `offset` on, each with the offset after it; stops at the first bad one."""
    file.seek(offset)
    while True:
        header = file.read(HEADER.size)
        if len(header) < HEADER.size:
            return
        payload = file.read(payload_size(header))
        record = unpack(header, payload)
        if record is None:
            return
        offset += HEADER.size + len(payload)
        yield record, offset


@dataclass
class Recovered:
    """What the start-up scan found: segment sizes, the backlog, where reading resumes."""

    sizes: dict[int, int] = field(default_factory=dict)
    last_seq: int = 0
    backlog_weight: int = 0
    cursor: tuple[int, int] | None = None  # (segment, offset) of the first record not inserted
    damaged: int = 0  # segments cut short by a damaged record


def recover(directory: Path, committed: int) -> Recovered:
    """Scan every segment, cut a torn tail off, and find the records after `committed`."""
    found = Recovered()
    for first in list_segments(directory):
        path = segment_path(directory, first)
        end = 0
        with path.open("rb") as file:
            for record, after in read_records(file, 0):
                found.last_seq = max(found.last_seq, record.seq)
                if record.seq > committed:
                    found.backlog_weight += record.weight
                    found.cursor = found.cursor or (first, end)
                end = after
        size = path.stat().st_size
        if end < size:
            # A record torn by a crash (or damaged): what follows it cannot be trusted.
            log.warning("event=spool_truncated segment=%s kept=%d size=%d", path.name, end, size)
            found.damaged += 1
            os.truncate(path, end)
        found.sizes[first] = end
    return found
