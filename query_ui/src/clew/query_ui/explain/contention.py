"""Who held the lock: for a slow or timed-out database call, the other traces on its table.

A database call that waited (a slow call a caller gave up on, or one that failed on a lock or a
timeout) often waited for someone else: a long transaction, a batch job. suspects() reads the
spans of other traces that touched the same table (db.collection.name, db.sql.table, or the
table named in the statement) from LOOKBACK before the call until it ended, and names, for each
such trace, the outermost span of that service that was running while the call waited (the
job, not its single statement), with its statement and a link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from clew.collector.store.base import Store
from clew.query_ui.explain.evidence import DB_STATEMENT_ATTRIBUTES, DB_SYSTEM_ATTRIBUTES
from clew.query_ui.read import queries
from clew.query_ui.read.format import rfc3339
from clew.query_ui.read.load import run, spans_of_traces
from clew.query_ui.read.model import Span, statement_table
from clew.query_ui.read.story import Story

LOOKBACK_NS = 15 * 60 * 1_000_000_000
"""How long before a slow call a transaction or job that still held its table may have begun."""
MAX_TRACES = 20
MAX_SPANS = 2_000
LOCK_WORDS = ("lock", "deadlock", "timeout", "timed out", "busy")
TABLE_ATTRIBUTES = ("db.collection.name", "db.sql.table")
PLAIN_NAME = re.compile(r"[\w.$]{1,200}")

Suspects = Callable[[Story, Span], list[dict[str, Any]]]
"""What the diagnosis asks: the contention suspects of a database call of a story."""


def table_of(span: Span) -> str:
    """The table a database call touched: from its attributes, else from its statement."""
    attrs = span.attributes
    named = next((attrs[a] for a in TABLE_ATTRIBUTES if attrs.get(a)), "")
    if named:
        return named
    return statement_table(next((attrs[a] for a in DB_STATEMENT_ATTRIBUTES if attrs.get(a)), ""))


def waited(span: Span, error_type: str, message: str) -> bool:
    """Whether a root cause is a database call that waited: slow, or failed on a lock/timeout."""
    if not any(span.attributes.get(a) for a in (*DB_SYSTEM_ATTRIBUTES, *DB_STATEMENT_ATTRIBUTES)):
        return False
    text = f"{error_type} {message}".lower()
    return error_type == "SlowCall" or any(word in text for word in LOCK_WORDS)


def reader(store: Store) -> Suspects:
    """suspects() over `store`."""
    return lambda story, span: suspects(store, story, span)


def suspects(store: Store, story: Story, span: Span) -> list[dict[str, Any]]:
    """The spans of other traces that held `span`'s table while it waited, earliest first."""
    table = table_of(span)
    if not PLAIN_NAME.fullmatch(table):
        return []  # no table, or a name no SQL statement would spell (an odd attribute value)
    params = {
        "since_ns": span.start_ns - LOOKBACK_NS,
        "until_ns": span.end_ns,
        "trace_ids": list(story.trace_ids),
        "table": table,
        "pattern": rf"(?i)\b{re.escape(table)}\b",
        "limit": MAX_TRACES,
    }
    trace_ids = [str(r["TraceId"]) for r in run(store, queries.SPANS_TOUCHING_TABLE, params)]
    others = Story(spans_of_traces(store, trace_ids, MAX_SPANS)) if trace_ids else None
    if others is None:
        return []
    found = {}
    for touching in others.spans:
        if table_of(touching) == table or _names(touching, table):
            holder = _holder(others, touching, span)
            if holder is not None:
                found[holder.ref] = _suspect(holder, touching, table)
    return sorted(found.values(), key=lambda s: (s["start"], s["span_id"]))


def _names(span: Span, table: str) -> bool:
    statement = next(
        (span.attributes[a] for a in DB_STATEMENT_ATTRIBUTES if span.attributes.get(a)), ""
    )
    return re.search(rf"(?i)\b{re.escape(table)}\b", statement) is not None


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
    statement = next((touching.attributes[a] for a in DB_STATEMENT_ATTRIBUTES
                      if touching.attributes.get(a)), "")  # fmt: skip
    return {
        "service": holder.service,
        "span_name": holder.name,
        "name": holder.display_name,
        "trace_id": holder.trace_id,
        "span_id": holder.span_id,
        "start": rfc3339(holder.start_ns),
        "duration_ms": holder.duration_ns / 1e6,
        "table": table,
        "statement": statement,
    }
