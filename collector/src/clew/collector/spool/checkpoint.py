"""The spool's checkpoint: what was inserted (committed) and what is being inserted (in flight).

Two 32-byte slots written in turn, each with a generation and a CRC: a write torn by a crash
spoils only the slot being written, and the other still holds the previous state.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

_SLOT = struct.Struct("<QQQI4x")
_BODY = struct.Struct("<QQQ")


class Checkpoint:
    """(committed, in_flight) sequence numbers of one spool, kept in one small file."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self.generation, self.committed, self.in_flight = self._load()

    def _load(self) -> tuple[int, int, int]:
        best = (0, 0, 0)
        for slot in range(2):
            raw = os.pread(self._fd, _SLOT.size, slot * _SLOT.size)
            if len(raw) < _SLOT.size:
                continue
            generation, committed, in_flight, crc = _SLOT.unpack(raw)
            body = _BODY.pack(generation, committed, in_flight)
            if zlib.crc32(body) == crc and generation > best[0]:
                best = (generation, committed, in_flight)
        return best

    def write(self, committed: int, in_flight: int, *, sync: bool) -> None:
        """Record the state in the older slot; fdatasync when `sync`."""
        self.generation += 1
        self.committed, self.in_flight = committed, in_flight
        body = _BODY.pack(self.generation, committed, in_flight)
        slot = _SLOT.pack(self.generation, committed, in_flight, zlib.crc32(body))
        os.pwrite(self._fd, slot, (self.generation % 2) * _SLOT.size)
        if sync:
            os.fdatasync(self._fd)

    def close(self) -> None:
        """Sync and close the file."""
        os.fdatasync(self._fd)
        os.close(self._fd)
