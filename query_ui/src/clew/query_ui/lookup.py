"""Reading traces, logs, links and business keys from the store into the model."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clew.collector.store import Store
from clew.query_ui import queries as q
from clew.query_ui.errors import NotFoundError, QueryLimitError, QueryUIError, StoreError
from clew.query_ui.model import Event, Link, LogLine, Span, normalise_kind, normalise_status

NS = 10**9
StoreLike = Store  # the collector's store, documented in docs/CONTRACTS.md


@dataclass
class Story:
    """Spans, logs and links of one trace or of all the traces of a business key."""

    trace_ids: list[str]
    spans: list[Span]
    logs: list[LogLine]
    limits: list[str] = field(default_factory=list)


def run(
    store: StoreLike,
    sql: str,
    parameters: Mapping[str, Any],
    limits: list[str] | None = None,
    settings: Mapping[str, float | str] = q.QUERY_SETTINGS,
) -> list[dict[str, Any]]:
    """Run one query under the UI's time limit, translating store failures to UI errors.

    ClickHouse stops a query at the limit and returns what it has; with `limits` the caller
    shows those rows with a note saying so, without it the query fails with QueryLimitError.
    """
    began = time.monotonic()
    try:
        rows = store.query(sql, parameters, settings=settings).named()
    except QueryUIError:
        raise
    except Exception as exc:  # the store's errors differ by backend; they all mean the same
        text = str(exc)
        if "TIMEOUT_EXCEEDED" in text or "Code: 159" in text:
            raise QueryLimitError(_time_limit_note()) from exc
        raise StoreError(f"the store could not answer: {text.splitlines()[0][:300]}") from exc
    if time.monotonic() - began >= float(q.QUERY_SETTINGS["max_execution_time"]):
        if limits is None:
            raise QueryLimitError(_time_limit_note())
        limits.append(_time_limit_note() + "; what was found so far is shown")
    return rows


def _time_limit_note() -> str:
    limit = float(q.QUERY_SETTINGS["max_execution_time"])
    return (
        f"the query stopped at its time limit of {limit:g} s; narrow the time range or add filters"
    )


def limited(rows: list[dict[str, Any]], limit: int, what: str, limits: list[str]) -> list[Any]:
    """Rows fetched with LIMIT limit+1: cut to `limit` and note that the limit was hit."""
    if len(rows) > limit:
        limits.append(f"only the first {limit} {what} are shown (row limit reached)")
        return rows[:limit]
    return rows


def load_trace(store: StoreLike, trace_id: str, *, logs: bool = True) -> Story:
    """One trace by id, whatever its age: the trace-id lookup table gives its time range."""
    trace_id = trace_id.strip().lower()
    story = _load(store, [trace_id], key="", value="", logs=logs)
    if not story.spans:
        raise NotFoundError(f"no trace with id {trace_id!r} is stored")
    return story


def trace_exists(store: StoreLike, trace_id: str) -> bool:
    """Whether the trace-id lookup table knows the trace."""
    rows = run(store, q.TRACE_TIME_RANGE, {"trace_id": trace_id.strip().lower()})
    return bool(rows and rows[0]["n"])


def key_traces(store: StoreLike, key: str, value: str) -> list[dict[str, Any]]:
    """The traces of a business key value, from the business-key index."""
    params = {"key": key, "value": value, "limit": q.MAX_KEY_TRACES + 1}
    rows = run(store, q.TRACES_OF_KEY, params)
    if not rows:
        raise NotFoundError(f"nothing was found for {key} = {value!r}")
    return rows


def _load(
    store: StoreLike, trace_ids: list[str], *, key: str, value: str, logs: bool = True
) -> Story:
    limits: list[str] = []
    spans = spans_of(store, trace_ids, limits)
    if spans:
        start = min(s.start_ns for s in spans) - q.LOG_MARGIN_NS
        end = max(s.end_ns for s in spans) + q.LOG_MARGIN_NS
    else:
        start, end = 0, 0
    params: dict[str, Any] = {"trace_ids": trace_ids, "key": key, "value": value}
    params |= {"start_ns": start, "end_ns": end, "limit": q.MAX_LOGS + 1}
    rows = run(store, q.LOGS_OF_TRACES, params, limits) if spans and logs else []
    records = [_log(r) for r in limited(rows, q.MAX_LOGS, "logs", limits)]
    _mark_error_logged(store, spans, records if logs else None, params)
    _attach_back_links(store, trace_ids, spans)
    _resolve_links(store, spans)
    return Story(trace_ids=trace_ids, spans=spans, logs=records, limits=limits)


def spans_of(store: StoreLike, trace_ids: list[str], limits: list[str]) -> list[Span]:
    """The spans of some traces, read in the time range the trace-id lookup table gives
    (one query: the range is its subquery)."""
    if not trace_ids:
        return []
    params = {"trace_ids": trace_ids, "limit": q.MAX_SPANS + 1}
    rows = run(store, q.SPANS_OF_TRACES, params, limits, q.TRACE_READ_SETTINGS)
    return [_span(r) for r in limited(rows, q.MAX_SPANS, "spans", limits)]


def _mark_error_logged(
    store: StoreLike, spans: list[Span], logs: list[LogLine] | None, params: dict[str, Any]
) -> None:
    """Flag the spans that wrote an ERROR log: from the logs read, else from the store."""
    if not spans:
        return
    if logs is not None:
        found = {(log.trace_id, log.span_id) for log in logs if log.is_error}
    else:
        # A log written in a span carries its process's clock, as the span does: no margin.
        during = {"start_ns": min(s.start_ns for s in spans), "limit": q.MAX_SPANS}
        during["end_ns"] = max(s.end_ns for s in spans)
        rows = run(store, q.ERROR_LOGGED_SPANS, params | during)
        found = {(str(r["TraceId"]), str(r["SpanId"])) for r in rows}
    for span in spans:
        span.error_logged = (span.trace_id, span.span_id) in found


def _attach_back_links(store: StoreLike, trace_ids: list[str], spans: list[Span]) -> None:
    if not spans:
        return
    rows = run(store, q.BACK_LINKS, {"trace_ids": trace_ids, "limit": q.MAX_LINKS})
    by_id = {s.span_id: s for s in spans}
    for row in sorted(rows, key=lambda r: (int(r["StartNs"]), str(r["SpanId"]))):
        target = by_id.get(str(row["LinkedSpanId"]))
        if target is not None:
            target.back_links.append(
                Link(
                    trace_id=str(row["TraceId"]),
                    span_id=str(row["SpanId"]),
                    attributes=dict(row["Attributes"]),
                    service=str(row["ServiceName"]),
                    name=str(row["SpanName"]),
                    time_ns=int(row["StartNs"]),
                )
            )


def _resolve_links(store: StoreLike, spans: list[Span]) -> None:
    """Fill in service, name and start of linked spans (a consumer's producer, say)."""
    wanted = {(link.trace_id, link.span_id) for s in spans for link in s.links}
    if not wanted:
        return
    trace_ids = sorted({t for t, _ in wanted})
    bounds = run(store, q.TRACES_TIME_RANGE, {"trace_ids": trace_ids})
    if not bounds or not bounds[0]["n"]:
        return
    params: dict[str, Any] = {"trace_ids": trace_ids, "span_ids": sorted({s for _, s in wanted})}
    params |= {
        "start_ns": int(bounds[0]["start_s"]) * NS,
        "end_ns": (int(bounds[0]["end_s"]) + 1) * NS,
    }
    params["limit"] = q.MAX_LINKS
    found = {(str(r["TraceId"]), str(r["SpanId"])): r for r in run(store, q.LINKED_SPANS, params)}
    for span in spans:
        span.links = [
            _resolved(link, found.get((link.trace_id, link.span_id))) for link in span.links
        ]


def _resolved(link: Link, row: dict[str, Any] | None) -> Link:
    if row is None:
        return link
    return Link(link.trace_id, link.span_id, link.attributes, service=str(row["ServiceName"]),
                name=str(row["SpanName"]), time_ns=int(row["StartNs"]))  # fmt: skip


def _span(row: dict[str, Any]) -> Span:
    events = [
        Event(int(t), str(n), dict(a))
        for t, n, a in zip(
            row["EventTimes"], row["EventNames"], row["EventAttributes"], strict=False
        )
    ]
    links = [
        Link(str(t), str(s), dict(a))
        for t, s, a in zip(
            row["LinkTraceIds"], row["LinkSpanIds"], row["LinkAttributes"], strict=False
        )
    ]
    return Span(
        trace_id=str(row["TraceId"]),
        span_id=str(row["SpanId"]),
        parent_span_id=str(row["ParentSpanId"]),
        name=str(row["SpanName"]),
        kind=normalise_kind(str(row["SpanKind"])),
        service=str(row["ServiceName"]),
        start_ns=int(row["StartNs"]),
        duration_ns=int(row["Duration"]),
        status=normalise_status(str(row["StatusCode"])),
        status_message=str(row["StatusMessage"]),
        attributes=dict(row["SpanAttributes"]),
        resource=dict(row["ResourceAttributes"]),
        scope=" ".join(p for p in (str(row["ScopeName"]), str(row["ScopeVersion"])) if p),
        events=events,
        links=links,
    )


def _log(row: dict[str, Any]) -> LogLine:
    return LogLine(
        time_ns=int(row["TimeNs"]),
        trace_id=str(row["TraceId"]),
        span_id=str(row["SpanId"]),
        severity=str(row["SeverityText"]),
        severity_number=int(row["SeverityNumber"]),
        service=str(row["ServiceName"]),
        body=str(row["Body"]),
        attributes=dict(row["LogAttributes"]),
    )
