"""A page of log records, newest first, and the cursor to the next page.

The cursor holds the time range of the first page (a relative range would slide under a
reader who pages) and the last record shown: its time, its identity among the records of that
same nanosecond and which of several identical ones it was. Records of one nanosecond are
read whole and ordered by identity, so paging neither repeats nor skips a record, however
many share a time and while new records arrive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from clew.common.store import Store
from clew.query_ui.errors import InvalidParameterError
from clew.query_ui.logs import queries as lq
from clew.query_ui.logs.filters import LogFilters
from clew.query_ui.read import queries as q
from clew.query_ui.read.load import limited, log_from_row, run
from clew.query_ui.read.model import LogRecord
from clew.query_ui.read.shapes import log_out

MAX_TIES = 10_000


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the range searched and the last record shown."""

    start_ns: int
    end_ns: int
    time_ns: int
    identity: str
    copy: int

    def encode(self) -> str:
        """The cursor as an opaque URL-safe string."""
        fields = [self.start_ns, self.end_ns, self.time_ns, self.identity, self.copy]
        return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """A cursor given back by a client; anything else is a 422 naming `cursor`."""
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
            start, end, at, identity, copy = json.loads(raw)
            ints = (start, end, at, copy)
            if not all(type(v) is int and 0 <= v < 2**63 for v in ints):
                raise ValueError
            if not isinstance(identity, str) or len(identity) != 16:
                raise ValueError
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise InvalidParameterError("cursor", "not a cursor this API returned") from None
        return cls(start, end, at, identity, copy)


def identity(record: LogRecord) -> str:
    """What tells apart records of the same nanosecond (equal for identical records)."""
    fields = [record.service, record.trace_id, record.span_id, record.severity_text,
              record.severity_number, record.body, sorted(record.attributes.items())]  # fmt: skip
    return hashlib.blake2b(json.dumps(fields).encode(), digest_size=8).hexdigest()


record = log_from_row


@dataclass
class LogPage:
    """One page: records newest first, the cursor to the next page, and limits met."""

    records: list[LogRecord]
    next_cursor: str | None
    stored_traces: set[str] = field(default_factory=set)
    limits: list[str] = field(default_factory=list)


Keyed = tuple[LogRecord, str, int]  # a record, its identity, which copy of identical ones


def page(store: Store, filters: LogFilters, cursor: Cursor | None = None) -> LogPage:
    """The page after `cursor` (the first page without one)."""
    if cursor is not None:
        filters.start_ns, filters.end_ns = cursor.start_ns, cursor.end_ns
    limits: list[str] = []
    found: list[Keyed] = []
    before = filters.end_ns + 1
    if cursor is not None:
        found = [k for k in _ties(store, filters, cursor.time_ns, limits)
                 if (k[1], k[2]) > (cursor.identity, cursor.copy)]  # fmt: skip
        before = cursor.time_ns
    params = filters.parameters() | {"before_ns": before, "limit": filters.limit + 1}
    rows = run(store, lq.statement(lq.PAGE, filters), params, limits)
    found += keyed([record(r) for r in rows])
    if len(found) > filters.limit:
        whole_at = cursor.time_ns if cursor is not None else None
        found = _complete_boundary(store, filters, found, whole_at, limits)
    shown = found[: filters.limit]
    more = len(found) > filters.limit
    last = shown[-1] if shown else None
    next_cursor = None
    if more and last is not None:
        at = last[0].time_ns
        next_cursor = Cursor(filters.start_ns, filters.end_ns, at, last[1], last[2]).encode()
    records = [k[0] for k in shown]
    return LogPage(records, next_cursor, stored_traces(store, records, limits), limits)


def _complete_boundary(
    store: Store,
    filters: LogFilters,
    found: list[Keyed],
    whole_at: int | None,
    limits: list[str],
) -> list[Keyed]:
    """Replace the records at the page's last time by all of them, in identity order: the
    LIMIT cut that nanosecond's records at a point no later query could find again. The
    cursor's own nanosecond (`whole_at`) was read whole already."""
    at = found[filters.limit - 1][0].time_ns
    if at == whole_at or found[filters.limit][0].time_ns < at:
        return found  # read whole already, or the LIMIT fell between two times
    newer = [k for k in found if k[0].time_ns > at]
    older = [k for k in found if k[0].time_ns < at]
    return newer + _ties(store, filters, at, limits) + older


def _ties(store: Store, filters: LogFilters, at_ns: int, limits: list[str]) -> list[Keyed]:
    params = filters.parameters() | {"at_ns": at_ns, "limit": MAX_TIES + 1}
    rows = run(store, lq.statement(lq.TIES, filters), params, limits)
    rows = limited(rows, MAX_TIES, "records of one nanosecond", limits)
    return keyed([record(r) for r in rows])


def keyed(records: list[LogRecord]) -> list[Keyed]:
    """Records with identity and copy number, newest first, ties in identity order."""
    ordered = sorted(((r, identity(r)) for r in records), key=lambda p: (-p[0].time_ns, p[1]))
    out: list[Keyed] = []
    for rec, ident in ordered:
        prev = out[-1] if out else None
        same = prev is not None and prev[0].time_ns == rec.time_ns and prev[1] == ident
        out.append((rec, ident, prev[2] + 1 if same and prev else 0))
    return out


def stored_traces(store: Store, records: list[LogRecord], limits: list[str]) -> set[str]:
    """The trace ids of `records` whose trace is stored (those a line links to)."""
    ids = sorted({r.trace_id for r in records if r.trace_id})
    if not ids:
        return set()
    rows = run(store, lq.STORED_TRACES, {"trace_ids": ids}, limits, q.QUERY_SETTINGS)
    return {str(r["TraceId"]) for r in rows}


def to_json(result: LogPage) -> dict[str, Any]:
    """The page as GET /api/logs answers it."""
    return {
        "logs": [log_out(r) for r in result.records],
        "next_cursor": result.next_cursor,
        "stored_traces": sorted(result.stored_traces),
        "limits": result.limits,
    }
