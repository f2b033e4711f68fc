"""The explainer's story of a business key as the UI's model, so the order page shows exactly
the traces and logs the diagnosis was made from, loaded once."""

from __future__ import annotations

from typing import Any

from clew.query_ui import explain
from clew.query_ui import queries as q
from clew.query_ui.errors import NotFoundError
from clew.query_ui.explain import contention
from clew.query_ui.explain import story as explained
from clew.query_ui.explain.load import Limits, load_story
from clew.query_ui.lookup import StoreLike, Story
from clew.query_ui.model import Event, Link, LogLine, Span


def ui_limits() -> Limits:
    """The UI's row limits, so the order page and the diagnosis API read the same story."""
    return Limits(max_traces=q.MAX_KEY_TRACES, max_spans=q.MAX_SPANS, max_logs=q.MAX_LOGS)


def key_story(store: StoreLike, key: str, value: str) -> tuple[Story, dict[str, Any]]:
    """The story of a business key value, read once under the UI's limits, and its diagnosis."""
    story = load_story(store, key, value, ui_limits(), with_resource=True)
    if not story:
        raise NotFoundError(str(explain.NotFound(key, value)))
    suspects = contention.reader(store)
    diagnosis: dict[str, Any] = explain.explain(story, suspects=suspects).to_dict()
    return from_explainer(story), diagnosis


def from_explainer(story: explained.Story) -> Story:
    """Spans with their links resolved both ways inside the story, and the logs."""
    error_logged = {(r.trace_id, r.span_id) for r in story.logs if r.is_error}
    spans = [_span(s, (s.trace_id, s.span_id) in error_logged) for s in story.spans]
    by_ref = {(s.trace_id, s.span_id): s for s in spans}
    for span in spans:
        span.links = [
            _resolved(link, by_ref.get((link.trace_id, link.span_id))) for link in span.links
        ]
        for link in span.links:
            target = by_ref.get((link.trace_id, link.span_id))
            if target is not None:
                target.back_links.append(
                    _resolved(Link(span.trace_id, span.span_id, link.attributes), span)
                )
    trace_ids = list(dict.fromkeys(s.trace_id for s in spans))
    logs = [_log(record) for record in story.logs]
    return Story(trace_ids=trace_ids, spans=spans, logs=logs, limits=list(story.warnings))


def _resolved(link: Link, other: Span | None) -> Link:
    if other is None:
        return link
    return Link(link.trace_id, link.span_id, link.attributes, service=other.service,
                name=other.name, time_ns=other.start_ns)  # fmt: skip


def _span(span: explained.Span, error_logged: bool) -> Span:
    return Span(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=span.name,
        kind=span.kind,
        service=span.service,
        start_ns=span.start_ns,
        duration_ns=span.duration_ns,
        status=span.status_code,
        status_message=span.status_message,
        attributes=dict(span.attributes),
        resource=dict(span.resource),
        scope=span.scope,
        events=[Event(e.time_ns, e.name, dict(e.attributes)) for e in span.events],
        links=[Link(link.trace_id, link.span_id, dict(link.attributes)) for link in span.links],
        error_logged=error_logged,
    )


def _log(record: explained.LogRecord) -> LogLine:
    return LogLine(
        time_ns=record.time_ns,
        trace_id=record.trace_id,
        span_id=record.span_id,
        severity=record.severity_text,
        severity_number=record.severity_number,
        service=record.service,
        body=record.body,
        attributes=dict(record.attributes),
    )
