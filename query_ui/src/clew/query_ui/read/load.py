"""The one loader: a trace, or the story of a business key, read from the store into a Story."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from clew.common.store import QueryResult, Store
from clew.query_ui.errors import NotFoundError, QueryLimitError, QueryUIError, StoreError
from clew.query_ui.read import queries as q
from clew.query_ui.read.model import (
    Event,
    Link,
    LogRecord,
    Span,
    SpanRef,
    normalise_kind,
    normalise_status,
)
from clew.query_ui.read.story import Story

T = TypeVar("T")
NS = 10**9

MAX_LINKS_FOLLOWED = 4
"""Links of a span are followed to their traces only when it has at most this many."""

# Reads of one page that do not need each other's rows run side by side (the logs beside the
# spans, the links to a trace beside its spans): the stores answer them in parallel (the
# embedded one with several reader sessions, a server over several connections). Only the
# request's own thread submits here, so a read never waits for a worker held by its caller.
_SIDE_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="clew-read")


@dataclass(frozen=True)
class Limits:
    """How much one read may take; hitting a limit is said on the page and in the diagnosis.

    Each query also runs under the UI's time limit (queries.QUERY_SETTINGS).
    """

    max_traces: int = q.MAX_KEY_TRACES
    max_spans: int = q.MAX_SPANS
    max_logs: int = q.MAX_LOGS
    link_hops: int = 2


DEFAULT_LIMITS = Limits()


def run(
    store: Store,
    sql: str,
    parameters: Mapping[str, Any],
    limits: list[str] | None = None,
    settings: Mapping[str, float | str] = q.QUERY_SETTINGS,
) -> list[dict[str, Any]]:
    """Run one query under the UI's time limit, translating store failures to UI errors; each
    row as a dict keyed by column name.

    ClickHouse stops a query at the limit and returns what it has; with `limits` the caller
    shows those rows with a note saying so, without it the query fails with QueryLimitError.
    """
    return _result(store, sql, parameters, limits, settings).named()


def _result(
    store: Store, sql: str, parameters: Mapping[str, Any], limits: list[str] | None, settings: Any
) -> QueryResult:
    began = time.monotonic()
    try:
        rows = store.query(sql, parameters, settings=settings)
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


def limited(rows: list[T], limit: int, what: str, limits: list[str]) -> list[T]:
    """Rows fetched with LIMIT limit+1: cut to `limit` and note that the limit was hit."""
    if len(rows) > limit:
        limits.append(limit_note(limit, what))
        return rows[: max(limit, 0)]
    return rows


def limit_note(limit: int, what: str) -> str:
    return f"only the first {limit} {what} were read (row limit reached)"


def load_trace(
    store: Store,
    trace_id: str,
    *,
    logs: bool = True,
    links: bool = True,
    resource: bool = True,
    limits: Limits | None = None,
) -> Story:
    """One trace by id, whatever its age, with its logs, the spans its links lead to and the
    spans that link to it.

    `links=False` leaves out the other ends of links (two queries), and `resource=False` each
    span's resource and scope, for reads that never show them: statistics, comparison, flame
    graph.
    """
    (story,) = load_traces(
        store, [trace_id], logs=logs, links=links, resource=resource, limits=limits
    )
    return story


def load_traces(
    store: Store,
    trace_ids: Sequence[str],
    *,
    logs: bool = True,
    links: bool = True,
    resource: bool = True,
    limits: Limits | None = None,
) -> list[Story]:
    """Several traces by id, one Story each in the order asked, read together: one query for
    their spans (the first `max_spans` of each) and, beside it, one for their logs, whatever
    their number. NotFoundError names the first id that is not stored."""
    limits = limits or DEFAULT_LIMITS
    wanted = [trace_id.strip().lower() for trace_id in trace_ids]
    notes: dict[str, list[str]] = {trace_id: [] for trace_id in wanted}
    ids = sorted(notes)  # each once, however often asked
    # What the queries for all of them met (a time limit, the logs' row limit), in read order.
    spans_read: list[str] = []
    logs_read: list[str] = []
    side = _SIDE_READS.submit(_logs_beside, store, ids, logs, limits, logs_read)
    back = _SIDE_READS.submit(_back_links, store, ids) if links else None
    params = {"trace_ids": ids, "limit": limits.max_spans + 1}
    query = q.SPANS_WITH_RESOURCE_OF_TRACES if resource else q.SPANS_OF_TRACES
    by_trace: dict[str, list[Span]] = {trace_id: [] for trace_id in ids}
    for span in read_spans(store, query, params, spans_read):
        by_trace[span.trace_id].append(span)
    spans: dict[str, list[Span]] = {}
    for trace_id in wanted:
        found = limited(by_trace[trace_id], limits.max_spans, "spans", notes[trace_id])
        if not found:
            raise NotFoundError(f"no trace with id {trace_id!r} is stored")
        spans[trace_id] = found
    records, error_logged = side.result()
    back_links = back.result() if back is not None else []
    return [
        Story(
            spans[trace_id],
            [record for record in records if record.trace_id == trace_id],
            limits=list(dict.fromkeys(spans_read + notes[trace_id] + logs_read)),
            ends=_link_ends(store, spans[trace_id]) if links else {},
            back_links=[link for link in back_links if link[0][0] == trace_id],
            error_logged={ref for ref in error_logged if ref[0] == trace_id},
        )
        for trace_id in wanted
    ]


def _logs_beside(
    store: Store, trace_ids: list[str], logs: bool, limits: Limits, notes: list[str]
) -> tuple[list[LogRecord], set[SpanRef]]:
    """The traces' logs (or, without `logs`, which spans wrote an ERROR log), read beside their
    spans: the logs in the time the trace-id lookup table gives them (it keeps whole seconds:
    the window holds every span's, and a little more); the ERROR-logged spans from the
    failed-span index, by trace id alone."""
    if not logs:
        return [], _error_logged(store, trace_ids)
    window = _traces_window(store, trace_ids)
    if window is None:
        return [], set()
    return _logs(store, trace_ids, "", "", window, limits, notes), set()


def _traces_window(store: Store, trace_ids: list[str]) -> tuple[int, int] | None:
    """From the first span's start to the last one's end, in whole seconds, of the traces."""
    bounds = run(store, q.TRACES_TIME_RANGE, {"trace_ids": trace_ids})
    if not bounds or not bounds[0]["n"]:
        return None
    return int(bounds[0]["start_s"]) * NS, (int(bounds[0]["end_s"]) + 1) * NS


def trace_exists(store: Store, trace_id: str) -> bool:
    """Whether the trace-id lookup table knows the trace."""
    rows = run(store, q.TRACE_TIME_RANGE, {"trace_id": trace_id.strip().lower()})
    return bool(rows and rows[0]["n"])


def key_traces(store: Store, key: str, value: str) -> list[dict[str, Any]]:
    """The traces of a business key value from the business-key index, each with `HasError`:
    whether it has a failed span (read/failed.py, through the failed-span index)."""
    params = {"key": key, "value": value, "limit": q.MAX_KEY_TRACES + 1}
    rows = run(store, q.TRACES_OF_KEY, params)
    if not rows:
        raise NotFoundError(f"nothing was found for {key} = {value!r}")
    span = {
        "trace_ids": [str(r["TraceId"]) for r in rows],
        "start_ns": min(int(r["FirstNs"]) for r in rows) - q.LOG_MARGIN_NS,
        "end_ns": max(int(r["LastNs"]) for r in rows) + q.LOG_MARGIN_NS,
    }
    failed = {str(r["TraceId"]) for r in run(store, q.FAILED_TRACES, span)}
    return [r | {"HasError": str(r["TraceId"]) in failed} for r in rows]


def load_story(
    store: Store,
    key: str,
    value: str,
    limits: Limits | None = None,
    *,
    with_resource: bool = False,
) -> Story:
    """Every trace of (key, value), the traces linked to and from them, and their logs, under
    `limits` (DEFAULT_LIMITS when not given).

    `with_resource` also reads each span's resource attributes and scope (for pages).
    """
    limits = limits or DEFAULT_LIMITS
    spans_query = q.SPANS_WITH_RESOURCE_OF_STORY if with_resource else q.SPANS_OF_STORY
    return _StoryLoader(store, limits, spans_query).load(key, value)


class _StoryLoader:
    def __init__(self, store: Store, limits: Limits, spans_query: str) -> None:
        self.store, self.limits, self.spans_query = store, limits, spans_query
        self.notes: list[str] = []

    def load(self, key: str, value: str) -> Story:
        params = {"key": key, "value": value, "limit": self.limits.max_traces + 1}
        rows = run(self.store, q.STORY_TRACES_OF_KEY, params)
        rows = limited(rows, self.limits.max_traces, "traces", self.notes)
        if not rows:
            return Story([], key=key, value=value)
        keyed = [r["TraceId"] for r in rows]
        # A trace known only from its logs has no spans: its logs still tell part of the story.
        seen = [int(r["FirstNs"]) for r in rows] + [int(r["LastNs"]) for r in rows]
        keyed_ids = sorted(set(keyed))
        # The keyed traces' logs are read beside their spans, in the window of the key's
        # sightings with a margin's more after the last (a sighting is a span's start, and
        # that span ends later). Once the spans are known, the logs are read again for them
        # all if links brought in traces or a span fell outside that window: the trace-id
        # lookup table is not asked first (a query fewer: the diagnosis 74 -> 65 ms p50 on
        # 10M spans, docs/adr/0007-performance.md).
        early_window = (min(seen), max(seen) + q.LOG_MARGIN_NS)
        early_notes: list[str] = []
        early = _SIDE_READS.submit(
            _logs, self.store, keyed_ids, key, value, early_window, self.limits, early_notes
        )
        spans = self._follow_links(keyed)
        seen += [s.start_ns for s in spans] + [s.end_ns for s in spans]
        trace_ids = sorted(set(keyed) | {s.trace_id for s in spans})
        window = (min(seen), max(seen))
        logs = early.result()
        if (
            trace_ids != keyed_ids
            or not early_window[0] <= window[0] <= window[1] <= early_window[1]
        ):
            logs = _logs(self.store, trace_ids, key, value, window, self.limits, self.notes)
        else:
            self.notes.extend(early_notes)
        return Story(spans, logs, key=key, value=value, limits=self.notes)

    def _follow_links(self, keyed: list[str]) -> list[Span]:
        """Spans of the keyed traces, then of traces linked to or from them, hop by hop."""
        loaded: set[str] = set()
        spans: list[Span] = []
        frontier = keyed
        for hop in range(self.limits.link_hops + 1):
            room = self.limits.max_traces - len(loaded)
            new = [t for t in dict.fromkeys(frontier) if t not in loaded]
            new = limited(new, room, "traces", self.notes)
            if not new:
                break
            # The traces linking to these are looked up beside their spans.
            backward = (
                _SIDE_READS.submit(self._linking_to, new) if hop < self.limits.link_hops else None
            )
            found = self._spans(new, self.limits.max_spans - len(spans))
            spans.extend(found)
            loaded.update(new)
            if backward is not None:
                frontier = self._linked(new, found, backward.result())
        return spans

    def _linking_to(self, trace_ids: list[str]) -> list[str]:
        params = {"trace_ids": trace_ids, "limit": self.limits.max_traces}
        return [r["TraceId"] for r in run(self.store, q.TRACES_LINKING_TO, params, self.notes)]

    def _linked(
        self, trace_ids: list[str], spans: Iterable[Span], backward: list[str]
    ) -> list[str]:
        # A span linking to many spans handled a batch: its links lead to other keys' stories.
        forward = [
            link.trace_id
            for span in spans
            if len(span.links) <= MAX_LINKS_FOLLOWED
            for link in span.links
        ]
        return [t for t in forward + backward if t and t not in trace_ids]

    def _spans(self, trace_ids: list[str], room: int) -> list[Span]:
        if room <= 0:
            self.notes.append(limit_note(self.limits.max_spans, "spans"))
            return []
        params = {"trace_ids": trace_ids, "limit": room + 1}
        found = read_spans(self.store, self.spans_query, params, self.notes)
        return limited(found, room, "spans", self.notes)


def _logs(
    store: Store,
    trace_ids: list[str],
    key: str,
    value: str,
    window: tuple[int, int],
    limits: Limits,
    notes: list[str],
) -> list[LogRecord]:
    """Logs of the traces (and, with a key, logs that carry it without a trace) in the window
    widened by the margin for clocks of different hosts."""
    params: dict[str, Any] = {"trace_ids": trace_ids, "key": key, "value": value}
    params |= {"start_ns": window[0] - q.LOG_MARGIN_NS, "end_ns": window[1] + q.LOG_MARGIN_NS}
    params["limit"] = limits.max_logs + 1
    rows = run(store, q.LOGS_OF_TRACES, params, notes)
    return [log_from_row(r) for r in limited(rows, limits.max_logs, "logs", notes)]


def _error_logged(store: Store, trace_ids: list[str]) -> set[SpanRef]:
    """The spans that wrote an ERROR log, for a read that does not load the logs themselves."""
    rows = run(store, q.ERROR_LOGGED_SPANS, {"trace_ids": trace_ids, "limit": q.MAX_SPANS})
    return {(str(r["TraceId"]), str(r["SpanId"])) for r in rows}


def _back_links(store: Store, trace_ids: list[str]) -> list[tuple[SpanRef, Link]]:
    """Links to the traces' spans from any stored span, with that span's service and start
    (the first MAX_LINKS of each trace)."""
    rows = run(store, q.BACK_LINKS, {"trace_ids": trace_ids, "limit": q.MAX_LINKS})
    return [
        (
            (str(r["LinkedTraceId"]), str(r["LinkedSpanId"])),
            Link(
                str(r["TraceId"]),
                str(r["SpanId"]),
                _as_map(r["Attributes"]),
                service=str(r["ServiceName"]),
                name=str(r["SpanName"]),
                time_ns=int(r["StartNs"]),
            ),
        )
        for r in rows
    ]


def _link_ends(store: Store, spans: list[Span]) -> dict[SpanRef, Link]:
    """Service, name and start of the spans that links lead to outside these spans."""
    inside = {s.ref for s in spans}
    wanted = {link.ref for s in spans for link in s.links} - inside
    if not wanted:
        return {}
    trace_ids = sorted({t for t, _ in wanted})
    window = _traces_window(store, trace_ids)
    if window is None:
        return {}
    params: dict[str, Any] = {"trace_ids": trace_ids, "span_ids": sorted({s for _, s in wanted})}
    params |= {"start_ns": window[0], "end_ns": window[1], "limit": q.MAX_LINKS}
    ends = {}
    for r in run(store, q.LINKED_SPANS, params):
        ref = (str(r["TraceId"]), str(r["SpanId"]))
        ends[ref] = Link(*ref, service=str(r["ServiceName"]), name=str(r["SpanName"]),
                         time_ns=int(r["StartNs"]))  # fmt: skip
    return ends


def read_spans(
    store: Store, sql: str, parameters: Mapping[str, Any], limits: list[str]
) -> list[Span]:
    """The spans a span query (queries._SPAN_COLUMNS, with or without the resource and scope)
    finds, as `run` runs it, with the trace-read settings.

    The rows stay tuples and each column is found by name once, not per row: a trace can have
    10,000 spans, and a dict per row cost more than parsing the query's result. Values are
    taken as the store gives them (Store: String as str, 64-bit integers as int, Map as
    dict), not converted again: on a 3,000-span comparison the conversions cost a tenth.
    """
    result = _result(store, sql, parameters, limits, q.TRACE_READ_SETTINGS)
    at = {name: n for n, name in enumerate(result.column_names)}
    trace_id, span_id, parent_id = at["TraceId"], at["SpanId"], at["ParentSpanId"]
    name, service = at["SpanName"], at["ServiceName"]
    kind, status = at["SpanKind"], at["StatusCode"]
    start, duration, message = at["StartNs"], at["Duration"], at["StatusMessage"]
    attributes, event_names = at["SpanAttributes"], at["EventNames"]
    event_times, event_attributes = at["EventTimesNs"], at["EventAttributes"]
    link_traces, link_spans, link_attributes = (
        at["LinkTraceIds"],
        at["LinkSpanIds"],
        at["LinkAttributes"],
    )
    with_resource = all(n in at for n in _RESOURCE)
    resource, scope_name, scope_version = (at.get(n, -1) for n in _RESOURCE)
    spans = []
    for row in result.rows:
        names, links = row[event_names], row[link_traces]
        fields = {
            "trace_id": row[trace_id],
            "span_id": row[span_id],
            "parent_span_id": row[parent_id],
            "name": row[name],
            "service": row[service],
            "start_ns": row[start],
            "duration_ns": row[duration],
            "kind": normalise_kind(row[kind]),
            "status": normalise_status(row[status]),
            "status_message": row[message],
            "attributes": _as_map(row[attributes]),
            "events": _events(names, row[event_times], row[event_attributes]) if names else (),
            "links": _links(links, row[link_spans], row[link_attributes]) if links else (),
            "resource": {},
            "scope": "",
        }
        if with_resource:
            fields["resource"] = _as_map(row[resource])
            fields["scope"] = " ".join(p for p in (row[scope_name], row[scope_version]) if p)
        spans.append(Span.from_fields(fields))
    return spans


_RESOURCE = ("ResourceAttributes", "ScopeName", "ScopeVersion")


def _events(names: list[Any], times: list[Any], attributes: list[Any]) -> tuple[Event, ...]:
    events = zip(names, times, attributes, strict=True)
    return tuple(Event(str(n), int(t), _as_map(a)) for n, t, a in events)


def _links(trace_ids: list[Any], span_ids: list[Any], attributes: list[Any]) -> tuple[Link, ...]:
    links = zip(trace_ids, span_ids, attributes, strict=True)
    return tuple(Link(str(t), str(s), _as_map(a)) for t, s, a in links)


def log_from_row(row: Mapping[str, Any]) -> LogRecord:
    """A row of LOGS_OF_TRACES as a LogRecord."""
    return LogRecord(
        time_ns=int(row["TimeNs"]),
        trace_id=str(row["TraceId"]),
        span_id=str(row["SpanId"]),
        service=str(row["ServiceName"]),
        severity_text=str(row["SeverityText"]),
        severity_number=int(row["SeverityNumber"]),
        body=str(row["Body"]),
        attributes=_as_map(row["LogAttributes"]),
    )


def _as_map(value: Any) -> dict[str, str]:
    """A Map column as a dict, whether the backend gives a dict or (key, value) pairs."""
    if type(value) is dict:
        return value  # a Map(String, String) parsed from JSON, not shared: taken as it is
    pairs = value.items() if isinstance(value, Mapping) else value
    return {str(k): str(v) for k, v in pairs}
