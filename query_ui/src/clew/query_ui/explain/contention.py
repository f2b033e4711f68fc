"""Who held the lock: for a slow or timed-out database call, the other traces on its table.

A database call that waited (a slow call a caller gave up on, or one that failed on a lock
wait or a timeout) often waited for someone else: a long transaction, a batch job. suspects()
reads (read/queries.py SPANS_ON_TABLE, then SPANS_RUNNING_AT) the spans of other traces that
touched the same table (db.collection.name, db.sql.table, the table as a word of the span's
name, or, in the services of the story that use the table, named in the statement) from a
lookback before the call until it ended, and the spans of those traces still running when it
began; for each such trace it names the outermost span of the touching span's service that ran
while the call waited (the job, not its single statement), with the statement and a link.

The lookback is LOOKBACK_WAITS times the wait, at least MIN_LOOKBACK_NS: a lock that held a
call up for a while was most likely taken not long before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from clew.common.store import Store
from clew.query_ui.explain.evidence import DB_STATEMENT_ATTRIBUTES, DB_SYSTEM_ATTRIBUTES
from clew.query_ui.read import queries
from clew.query_ui.read.format import rfc3339
from clew.query_ui.read.load import run
from clew.query_ui.read.model import Span, normalise_kind, statement_table
from clew.query_ui.read.story import Story

MIN_LOOKBACK_NS = 5 * 1_000_000_000
LOOKBACK_WAITS = 10
MAX_ROWS = 2_000
# A call that waited: a lock wait or a timeout (a deadlock is detected and broken at once).
WAIT_WORDS = ("lock wait", "locked", "timeout", "timed out", "busy")
TABLE_ATTRIBUTES = ("db.collection.name", "db.sql.table")
PLAIN_NAME = re.compile(r"[\w.$]{1,200}")
# The attributes SPANS_ON_TABLE reads, by the column it names them.
COLUMNS = {"QueryText": "db.query.text", "Statement": "db.statement",
           "Collection": "db.collection.name", "SqlTable": "db.sql.table"}  # fmt: skip

Suspects = Callable[[Story, Span], list[dict[str, Any]]]
"""What the diagnosis asks: the contention suspects of a database call of a story."""


def table_of(span: Span) -> str:
    """The table a database call touched: from its attributes, else from its statement."""
    attrs = span.attributes
    named = next((attrs[a] for a in TABLE_ATTRIBUTES if attrs.get(a)), "")
    return named or statement_table(_statement(span))


def waited(span: Span, error_type: str, message: str) -> bool:
    """Whether a root cause is a database call that waited: slow, or failed on a lock/timeout."""
    if not any(span.attributes.get(a) for a in (*DB_SYSTEM_ATTRIBUTES, *DB_STATEMENT_ATTRIBUTES)):
        return False
    text = f"{error_type} {message}".lower()
    return error_type == "SlowCall" or any(word in text for word in WAIT_WORDS)


def reader(store: Store) -> Suspects:
    """suspects() over `store`."""
    return lambda story, span: suspects(store, story, span)


def suspects(store: Store, story: Story, span: Span) -> list[dict[str, Any]]:
    """The spans of other traces that held `span`'s table while it waited, earliest first."""
    table = table_of(span)
    if not PLAIN_NAME.fullmatch(table):
        return []  # no table, or a name no SQL statement would spell (an odd attribute value)
    lookback = max(MIN_LOOKBACK_NS, LOOKBACK_WAITS * span.duration_ns)
    params = {
        "since_ns": span.start_ns - lookback,
        "until_ns": span.end_ns,
        "wait_start_ns": span.start_ns,
        "exclude_trace_ids": list(story.trace_ids),
        "table": table,
        "table_lower": table.lower(),
        "services": sorted({s.service for s in story.spans if table_of(s) == table}),
        "pattern": rf"(?i)\b{re.escape(table)}\b",
        "limit": MAX_ROWS,
    }
    on_table = [_span(row) for row in run(store, queries.SPANS_ON_TABLE, params)]
    if not on_table:
        return []
    params["trace_ids"] = sorted({s.trace_id for s in on_table})
    running = [_span(row) for row in run(store, queries.SPANS_RUNNING_AT, params)]
    others = Story([*on_table, *running])
    found = {}
    for touching in others.spans:
        if table_of(touching) == table or _names(touching, table):
            holder = _holder(others, touching, span)
            if holder is not None:
                found[holder.ref] = _suspect(holder, touching, table)
    return sorted(found.values(), key=lambda s: (s["start"], s["span_id"]))


def _span(row: Mapping[str, Any]) -> Span:
    return Span(
        trace_id=str(row["TraceId"]),
        span_id=str(row["SpanId"]),
        parent_span_id=str(row["ParentSpanId"]),
        name=str(row["SpanName"]),
        service=str(row["ServiceName"]),
        start_ns=int(row["StartNs"]),
        duration_ns=int(row["Duration"]),
        kind=normalise_kind(str(row["SpanKind"])),
        attributes={name: str(row[c]) for c, name in COLUMNS.items() if row.get(c)},
    )


def _statement(span: Span) -> str:
    return next((span.attributes[a] for a in DB_STATEMENT_ATTRIBUTES if span.attributes.get(a)), "")


def _names(span: Span, table: str) -> bool:
    return re.search(rf"(?i)\b{re.escape(table)}\b", _statement(span)) is not None


def _holder(story: Story, touching: Span, waiting: Span) -> Span | None:
    """The outermost span of `touching`'s service around it that overlapped the wait."""
    holder = None
    for candidate in (touching, *story.ancestors(touching)):
        if candidate.service != touching.service:
            break
        if candidate.start_ns < waiting.end_ns and candidate.end_ns > waiting.start_ns:
            holder = candidate
    return holder


def _suspect(holder: Span, touching: Span, table: str) -> dict[str, Any]:
    return {
        "service": holder.service,
        "span_name": holder.name,
        "name": holder.display_name,
        "trace_id": holder.trace_id,
        "span_id": holder.span_id,
        "start": rfc3339(holder.start_ns),
        "duration_ms": holder.duration_ns / 1e6,
        "table": table,
        "statement": _statement(touching),
    }
