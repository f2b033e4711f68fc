"""The spool's on-disk record: a fixed header, then one accepted request's items.

Header (little-endian): payload length u32, CRC-32 of the rest u32, sequence number u64,
weight (items the record stands for) u32, append time in Unix nanoseconds u64. The CRC covers
seq, weight, time and payload, so a torn or stale tail is recognised after a crash.
Payload: one kind byte, then a whole OTLP trace request (protobuf) or the rows as a JSON array.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from clew.collector.decode import RawSpans

HEADER = struct.Struct("<IIQIQ")
_CHECKED = struct.Struct("<QIQ")
OTLP, ROWS = b"o", b"r"


@dataclass(frozen=True)
class Record:
    """One spooled request: its sequence number, weight, append time and payload."""

    seq: int
    weight: int
    time_ns: int
    payload: bytes


@dataclass(frozen=True)
class JsonRows:
    """Rows already encoded as one JSON array (what JSONEachRow reads), worth `count` rows."""

    data: bytes
    count: int


def encode_items(items: list[Any]) -> list[bytes]:
    """The payload of one request's items (one RawSpans, or rows), in parts: no copy made."""
    if len(items) == 1 and isinstance(items[0], RawSpans):
        return [OTLP, items[0].body]
    return [ROWS, orjson.dumps(items)]


def decode_payload(payload: bytes, weight: int) -> RawSpans | JsonRows:
    """The item a payload stands for (rows stay encoded: the writer sends them as they are)."""
    if payload[:1] == OTLP:
        return RawSpans(payload[1:], weight)
    return JsonRows(payload[1:], weight)


def payload_crc(payload: list[bytes]) -> int:
    """The CRC-32 of a payload's parts (computed before the spool's lock is taken: zlib
    releases the GIL on large buffers, so receivers checksum in parallel)."""
    crc = 0
    for part in payload:
        crc = zlib.crc32(part, crc)
    return crc


def pack(seq: int, weight: int, time_ns: int, payload: list[bytes], crc: int) -> list[bytes]:
    """Header and payload parts of one record, ready for writev; `crc` is payload_crc()."""
    crc = zlib.crc32(_CHECKED.pack(seq, weight, time_ns), crc)
    size = sum(len(part) for part in payload)
    return [HEADER.pack(size, crc, seq, weight, time_ns), *payload]


def unpack(header: bytes, payload: bytes) -> Record | None:
    """The record, or None when the CRC does not match (a torn or damaged record)."""
    _size, crc, seq, weight, time_ns = HEADER.unpack(header)
    checked = _CHECKED.pack(seq, weight, time_ns)
    if zlib.crc32(checked, zlib.crc32(payload)) != crc:
        return None
    return Record(seq, weight, time_ns, payload)


def payload_size(header: bytes) -> int:
    """The payload length a header announces."""
    return int(HEADER.unpack(header)[0])
