"""A root cause (or a handled failure) with what was stored about it, gathered for the reader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as dataclasses_replace
from typing import Any

from clew.query_ui.explain.compensation import compensation_of, leaves_wrong
from clew.query_ui.explain.contention import Suspects, waited
from clew.query_ui.explain.describe import describe, failure_time
from clew.query_ui.explain.evidence import Evidence, evidence, gathered_exceptions
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.retry import attempts
from clew.query_ui.read.model import Span
from clew.query_ui.read.shapes import stamp
from clew.query_ui.read.story import Story


@dataclass(frozen=True)
class RootCause:
    """Where a failure started, with what was stored about it."""

    span: Span
    error_type: str
    message: str
    time_ns: int
    reason: str
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            **span_dict(self.span),
            "trace_id": self.span.trace_id,
            "error_type": self.error_type,
            "message": self.message,
            **stamp("time", self.time_ns),
            "evidence": [{"kind": "reason", "text": self.reason}, *self.evidence],
        }


def span_dict(span: Span) -> dict[str, Any]:
    """A span as the diagnosis names it: service, raw span name, what it did, id."""
    return {"service": span.service, "span_name": span.name, "name": span.display_name,
            "span_id": span.span_id}  # fmt: skip


def root_cause(story: Story, finding: Finding, suspects: Suspects | None) -> RootCause:
    """The finding's span as a root cause, its evidence gathered from every span that holds some."""
    span = finding.span
    if story.failed(span):
        error_type, message = _what(story, span)
        time_ns = failure_time(story, span)
    else:
        # A slow call that a caller gave up on (timeout.py): it did not fail by itself.
        error_type, message, time_ns = "SlowCall", finding.reason, span.start_ns
    found = [*evidence(story, span), *_compensation(story, span)]
    if suspects is not None and waited(span, error_type, message):
        found.extend(_contention(suspects(story, span)))
    return RootCause(span, error_type, message, time_ns, finding.reason, tuple(found))


def _what(story: Story, span: Span) -> tuple[str, str]:
    """(error type, message): the span's own exception, else one recorded around it."""
    error_type, message = describe(story, span)
    if any(e.name == "exception" for e in span.events):
        return error_type, message
    gathered = gathered_exceptions(story, span)
    if gathered:
        attrs = gathered[0][1].attributes
        return attrs.get("exception.type", error_type), attrs.get("exception.message", message)
    return error_type, message


def _compensation(story: Story, span: Span) -> list[Evidence]:
    undoing = compensation_of(story, span)
    if undoing is None:
        return []
    text = f"compensating action failed: {leaves_wrong(undoing)} ({undoing.label})"
    return [{"kind": "compensation", "text": text, "span_id": undoing.span_id}]


def _contention(found: list[dict[str, Any]]) -> list[Evidence]:
    table = found[0]["table"] if found else ""
    names = ", ".join(f"{s['service']} '{s['name']}'" for s in found)
    text = f"contention: {names} held {table} meanwhile" if found else "contention: none found"
    return [{"kind": "contention", "table": table, "suspects": found, "text": text}]


def distinct(story: Story, causes: Sequence[RootCause]) -> list[RootCause]:
    """The same failure repeated (attempts that all failed) is one cause, at its first time."""
    groups: dict[tuple[str, str, str], list[RootCause]] = {}
    for cause in causes:
        groups.setdefault((cause.span.service, cause.span.name, cause.error_type), []).append(cause)
    kept = []
    for first, *repeats in groups.values():
        if repeats:
            first = dataclasses_replace(
                first, evidence=(*first.evidence, _repeated(story, first, repeats))
            )
        kept.append(first)
    return kept


def _repeated(story: Story, first: RootCause, repeats: list[RootCause]) -> Evidence:
    count = len(repeats) + 1
    tried = _attempted_call(story, first.span)
    text = f"{count} times"
    if tried is not None:
        text = f"{count} attempts, all failed, calling {tried.display_name}"
    ids = [r.span.span_id for r in repeats]
    return {"kind": "repeated", "count": count, "span_ids": ids, "attempts": tried is not None,
            "text": text}  # fmt: skip


def _attempted_call(story: Story, span: Span) -> Span | None:
    """The call whose attempts all failed, `span` being (inside) one of them."""
    for candidate in (span, *story.ancestors(span)):
        if attempts(story, candidate):
            return candidate
    return None
