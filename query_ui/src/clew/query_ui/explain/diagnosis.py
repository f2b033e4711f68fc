"""The diagnosis: the rules' findings over a story, assembled for the JSON API and for people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as dataclasses_replace
from typing import Any, Literal

from clew.query_ui.explain.compensation import is_compensation
from clew.query_ui.explain.describe import describe, failure_time
from clew.query_ui.explain.evidence import Evidence, evidence, log_dict
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.rules import RULES, Rule, apply
from clew.query_ui.explain.summary import summarize
from clew.query_ui.read.model import LogRecord, Span, SpanRef
from clew.query_ui.read.shapes import stamp
from clew.query_ui.read.story import Story

Status = Literal["failed", "succeeded", "unknown"]


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
            **_span_dict(self.span),
            "trace_id": self.span.trace_id,
            "error_type": self.error_type,
            "message": self.message,
            **stamp("time", self.time_ns),
            "evidence": [{"kind": "reason", "text": self.reason}, *self.evidence],
        }


@dataclass(frozen=True)
class Consequence:
    """A span that failed because of a failure below it (cascade), or a recovery."""

    span: Span
    reason: str
    related: Span | None
    kind: str = "cascade"
    quiet: bool = False

    def to_dict(self) -> dict[str, Any]:
        entry = {**_span_dict(self.span), "reason": self.reason}
        if self.kind == "cascade":
            return entry
        related = self.related.span_id if self.related is not None else ""
        extra = {"trace_id": self.span.trace_id, **stamp("time", self.span.start_ns)}
        return {"kind": self.kind, **entry, **extra, "related_span_id": related}


@dataclass(frozen=True)
class Diagnosis:
    """Why a business key's flow failed, or that it did not."""

    key: str
    value: str
    status: Status
    root_causes: tuple[RootCause, ...]
    cascade: tuple[Consequence, ...]
    recoveries: tuple[Consequence, ...]
    traces: tuple[str, ...]
    logs: tuple[LogRecord, ...]
    summary: str
    failed: tuple[SpanRef, ...] = ()
    """Every failed span of the story (read/failed.py), handled or not."""
    limits: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON API's shape (issue 4), plus `recoveries` and `limits` (the row and time
        limits the read hit, as every endpoint says them)."""
        return {
            "key": self.key,
            "value": self.value,
            "status": self.status,
            "root_causes": [cause.to_dict() for cause in self.root_causes],
            "cascade": [entry.to_dict() for entry in self.cascade],
            "recoveries": [entry.to_dict() for entry in self.recoveries],
            "traces": list(self.traces),
            "logs": [log_dict(record) for record in self.logs],
            "summary": self.summary,
            "failed_spans": [{"trace_id": t, "span_id": s} for t, s in self.failed],
            "limits": list(self.limits),
        }


def explain(story: Story, rules: Sequence[Rule] = RULES) -> Diagnosis:
    """Run the rules over `story` and assemble the diagnosis."""
    findings = apply(story, rules)
    causes = _distinct(
        sorted(
            (_root_cause(story, f) for f in findings if f.kind == "cause"),
            key=lambda c: (c.time_ns, c.span.start_ns),
        )
    )
    cascade = [_consequence(f) for f in _by_time(story, findings, "cascade")]
    recoveries = [_consequence(f) for f in _by_time(story, findings, "recovery")]
    status = _status(story, causes)
    diagnosis = Diagnosis(
        key=story.key,
        value=story.value,
        status=status,
        root_causes=tuple(causes),
        cascade=tuple(cascade),
        recoveries=tuple(recoveries),
        traces=story.trace_ids,
        logs=story.logs,
        summary="",
        failed=tuple(span.ref for span in story.failed_spans()),
        limits=story.limits,
    )
    return _with_summary(story, diagnosis, findings)


def _root_cause(story: Story, finding: Finding) -> RootCause:
    span = finding.span
    if story.failed(span):
        error_type, message = describe(story, span)
        time_ns = failure_time(story, span)
    else:
        # A slow call that a caller gave up on (timeout.py): it did not fail by itself.
        error_type, message, time_ns = "SlowCall", finding.reason, span.start_ns
    found = tuple(evidence(story, span))
    return RootCause(span, error_type, message, time_ns, finding.reason, found)


def _distinct(causes: list[RootCause]) -> list[RootCause]:
    """The same failure repeated (attempts that all failed) is one cause, at its first time."""
    groups: dict[tuple[str, str, str], list[RootCause]] = {}
    for cause in causes:
        groups.setdefault((cause.span.service, cause.span.name, cause.error_type), []).append(cause)
    distinct = []
    for first, *repeats in groups.values():
        if repeats:
            ids = [r.span.span_id for r in repeats]
            note = {"kind": "repeated", "count": len(repeats) + 1, "span_ids": ids}
            first = dataclasses_replace(first, evidence=(*first.evidence, note))
        distinct.append(first)
    return distinct


def _consequence(finding: Finding) -> Consequence:
    kind = "cascade"
    if finding.kind == "recovery":
        kind = "compensation" if is_compensation(finding.span) else "retry"
    return Consequence(finding.span, finding.reason, finding.related, kind, finding.quiet)


def _by_time(story: Story, findings: list[Finding], kind: str) -> list[Finding]:
    chosen = [f for f in findings if f.kind == kind]
    return sorted(chosen, key=lambda f: (failure_time(story, f.span), f.span.start_ns))


def _status(story: Story, causes: list[RootCause]) -> Status:
    # With part of the story cut off by a limit, the part not read may hold the failure, or the
    # retry or compensation that made a failure good: the causes found are only candidates.
    if not story.spans or story.limits:
        return "unknown"
    return "failed" if causes else "succeeded"


def _with_summary(story: Story, diagnosis: Diagnosis, findings: list[Finding]) -> Diagnosis:
    retried = sum(1 for f in findings if f.kind == "retried")
    summary = summarize(diagnosis, span_count=len(story.spans), retried_failures=retried)
    return dataclasses_replace(diagnosis, summary=summary)


def _span_dict(span: Span) -> dict[str, Any]:
    return {"service": span.service, "span_name": span.name, "span_id": span.span_id}
