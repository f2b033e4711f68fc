"""Reading a business key's story from the store: keyed traces, linked traces, their logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from clew.collector.store.base import Store
from clew.query_ui.explain import queries
from clew.query_ui.explain.story import (
    Event,
    Link,
    LogRecord,
    Span,
    Story,
    normalize_kind,
    normalize_status,
)
from clew.query_ui.lookup import run

T = TypeVar("T")

MAX_LINKS_FOLLOWED = 4
"""Links of a span are followed to their traces only when it has at most this many."""

LOG_MARGIN_NS = 60 * 1_000_000_000
"""Logs that carry the key but no trace are looked for this long around the traces."""


@dataclass(frozen=True)
class Limits:
    """How much one diagnosis may read; hitting a limit is said in the diagnosis.

    Each query also runs under the UI's time limit (clew.query_ui.queries.QUERY_SETTINGS).
    """

    max_traces: int = 200
    max_spans: int = 20_000
    max_logs: int = 5_000
    link_hops: int = 2


DEFAULT_LIMITS = Limits()


def load_story(
    store: Store,
    key: str,
    value: str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    with_resource: bool = False,
) -> Story:
    """Every trace of (key, value), the traces linked to and from them, and their logs.

    `with_resource` also reads each span's resource attributes and scope name (for pages).
    """
    spans_query = (
        queries.SPANS_WITH_RESOURCE_OF_TRACES if with_resource else queries.SPANS_OF_TRACES
    )
    return _Loader(store, limits, spans_query).load(key, value)


class _Loader:
    def __init__(self, store: Store, limits: Limits, spans_query: str) -> None:
        self.store, self.limits, self.spans_query = store, limits, spans_query
        self.warnings: list[str] = []

    def load(self, key: str, value: str) -> Story:
        params = {"key": key, "value": value, "limit": self.limits.max_traces + 1}
        rows = self._cut(
            self._query(queries.TRACES_OF_KEY, params), self.limits.max_traces, "traces"
        )
        if not rows:
            return Story(key, value, [])
        spans = self._follow_links([r["TraceId"] for r in rows])
        # A trace known only from its logs has no spans: its logs still tell part of the story.
        seen = [int(r["FirstNs"]) for r in rows] + [int(r["LastNs"]) for r in rows]
        seen += [s.start_ns for s in spans] + [s.end_ns for s in spans]
        trace_ids = {r["TraceId"] for r in rows} | {s.trace_id for s in spans}
        logs = self._logs(key, value, sorted(trace_ids), min(seen), max(seen))
        return Story(key, value, spans, logs, warnings=dict.fromkeys(self.warnings))

    def _follow_links(self, keyed: list[str]) -> list[Span]:
        """Spans of the keyed traces, then of traces linked to or from them, hop by hop."""
        loaded: set[str] = set()
        spans: list[Span] = []
        frontier = keyed
        for hop in range(self.limits.link_hops + 1):
            room = self.limits.max_traces - len(loaded)
            new = self._cut([t for t in dict.fromkeys(frontier) if t not in loaded], room, "traces")
            if not new:
                break
            found = self._spans(new, self.limits.max_spans - len(spans))
            spans.extend(found)
            loaded.update(new)
            if hop < self.limits.link_hops:
                frontier = self._linked(new, found)
        return spans

    def _linked(self, trace_ids: list[str], spans: Iterable[Span]) -> list[str]:
        # A span linking to many spans handled a batch: its links lead to other keys' stories.
        forward = [
            link.trace_id
            for span in spans
            if len(span.links) <= MAX_LINKS_FOLLOWED
            for link in span.links
        ]
        params = {"trace_ids": trace_ids, "limit": self.limits.max_traces}
        backward = [
            r["TraceId"] for r in self._query(queries.TRACES_LINKING_TO, params, partial_ok=True)
        ]
        return [t for t in forward + backward if t and t not in trace_ids]

    def _spans(self, trace_ids: list[str], room: int) -> list[Span]:
        if room <= 0:
            self._limit_hit("spans")
            return []
        ranges = self._query(queries.TRACE_TIME_RANGES, {"trace_ids": trace_ids})
        if not ranges:
            return []
        params = {
            "trace_ids": [r["TraceId"] for r in ranges],
            "start_s": min(int(r["StartS"]) for r in ranges),
            "end_s": max(int(r["EndS"]) for r in ranges),
            "limit": room + 1,
        }
        rows = self._cut(self._query(self.spans_query, params), room, "spans")
        return [span_from_row(row) for row in rows]

    def _logs(
        self, key: str, value: str, trace_ids: list[str], start_ns: int, end_ns: int
    ) -> list[LogRecord]:
        params = {
            "key": key,
            "value": value,
            "trace_ids": trace_ids,
            "start_ns": start_ns - LOG_MARGIN_NS,
            "end_ns": end_ns + LOG_MARGIN_NS,
            "limit": self.limits.max_logs + 1,
        }
        rows = self._cut(
            self._query(queries.LOGS_OF_STORY, params, partial_ok=True),
            self.limits.max_logs,
            "logs",
        )
        return [log_from_row(row) for row in rows]

    def _query(
        self, sql: str, parameters: Mapping[str, Any], *, partial_ok: bool = False
    ) -> list[dict[str, Any]]:
        """Rows of one query under the UI's time limit; store failures become the UI's errors.

        With `partial_ok`, a query stopped at the time limit gives what it found and a warning;
        otherwise it raises QueryLimitError (504).
        """
        return run(self.store, sql, parameters, self.warnings if partial_ok else None)

    def _cut(self, items: list[T], room: int, what: str) -> list[T]:
        """`items` cut to `room`, saying so when something was left out."""
        if len(items) > room:
            self._limit_hit(what)
            return items[: max(room, 0)]
        return items

    def _limit_hit(self, what: str) -> None:
        limit = {"traces": self.limits.max_traces, "spans": self.limits.max_spans}
        limit["logs"] = self.limits.max_logs
        self.warnings.append(f"Only the first {limit[what]} {what} were read (limit).")


def span_from_row(row: Mapping[str, Any]) -> Span:
    """A row of SPANS_OF_TRACES as a Span."""
    events = zip(row["EventNames"], row["EventTimesNs"], row["EventAttributes"], strict=True)
    links = zip(row["LinkTraceIds"], row["LinkSpanIds"], row["LinkAttributes"], strict=True)
    return Span(
        trace_id=row["TraceId"],
        span_id=row["SpanId"],
        parent_span_id=row["ParentSpanId"],
        name=row["SpanName"],
        service=row["ServiceName"],
        start_ns=int(row["StartNs"]),
        duration_ns=int(row["Duration"]),
        kind=normalize_kind(row["SpanKind"]),
        status_code=normalize_status(row["StatusCode"]),
        status_message=row["StatusMessage"],
        attributes=_as_map(row["SpanAttributes"]),
        events=tuple(Event(n, int(t), _as_map(a)) for n, t, a in events),
        links=tuple(Link(t, s, _as_map(a)) for t, s, a in links),
        resource=_as_map(row.get("ResourceAttributes", {})),
        scope=row.get("ScopeName", ""),
    )


def log_from_row(row: Mapping[str, Any]) -> LogRecord:
    """A row of LOGS_OF_STORY as a LogRecord."""
    return LogRecord(
        time_ns=int(row["TimeNs"]),
        trace_id=row["TraceId"],
        span_id=row["SpanId"],
        service=row["ServiceName"],
        severity_text=row["SeverityText"],
        severity_number=int(row["SeverityNumber"]),
        body=row["Body"],
        attributes=_as_map(row["LogAttributes"]),
    )


def _as_map(value: Any) -> dict[str, str]:
    """A Map column as a dict, whether the backend gives a dict or (key, value) pairs."""
    pairs = value.items() if isinstance(value, Mapping) else value
    return {str(k): str(v) for k, v in pairs}


def spans_of_traces(store: Store, trace_ids: list[str], limit: int) -> list[Span]:
    """Every span of some traces (at most `limit`), found through the trace-id table."""
    return _Loader(store, Limits(max_spans=limit), queries.SPANS_OF_TRACES)._spans(trace_ids, limit)
