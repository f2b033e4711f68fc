"""The on-disk write-ahead spool between the receivers and the writer (docs/RELIABILITY.md)."""

from __future__ import annotations

from clew.collector.spool.core import Spool, SpoolFull
from clew.collector.spool.records import JsonRows, Record, decode_payload, encode_items

__all__ = ["JsonRows", "Record", "Spool", "SpoolFull", "decode_payload", "encode_items"]
