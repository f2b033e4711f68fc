"""The diagnosis: the rules' findings over a story, assembled for the JSON API and for people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as dataclasses_replace
from typing import Any, Literal

from clew.query_ui.explain.causes import RootCause, distinct, root_cause, span_dict
from clew.query_ui.explain.compensation import is_compensation
from clew.query_ui.explain.contention import Suspects
from clew.query_ui.explain.describe import failure_time
from clew.query_ui.explain.evidence import log_dict
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.retry import retried_attempts
from clew.query_ui.explain.rules import RULES, Rule, apply
from clew.query_ui.explain.skew import adjusted
from clew.query_ui.explain.summary import summarize
from clew.query_ui.read.model import LogRecord, Span, SpanRef
from clew.query_ui.read.shapes import stamp
from clew.query_ui.read.story import Story

__all__ = ["Consequence", "Diagnosis", "RootCause", "Status", "explain"]

Status = Literal["failed", "succeeded", "unknown"]


@dataclass(frozen=True)
class Consequence:
    """A span that failed because of a failure below it (cascade), or a recovery."""

    span: Span
    reason: str
    related: Span | None
    kind: str = "cascade"
    quiet: bool = False
    logs: tuple[LogRecord, ...] = ()
    """The span's own ERROR logs."""

    def to_dict(self) -> dict[str, Any]:
        entry = {**span_dict(self.span), "reason": self.reason}
        if self.kind == "cascade":
            return {**entry, "logs": [log_dict(r) for r in self.logs]}
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
    handled: tuple[RootCause, ...] = ()
    """Failures that a retry or their caller made good: listed, never a root cause."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON API's shape (issue 4), plus `recoveries`, `handled` and `limits` (the row
        and time limits the read hit, as every endpoint says them)."""
        return {
            "key": self.key,
            "value": self.value,
            "status": self.status,
            "root_causes": [cause.to_dict() for cause in self.root_causes],
            "cascade": [entry.to_dict() for entry in self.cascade],
            "recoveries": [entry.to_dict() for entry in self.recoveries],
            "handled": [entry.to_dict() for entry in self.handled],
            "traces": list(self.traces),
            "logs": [log_dict(record) for record in self.logs],
            "summary": self.summary,
            "failed_spans": [{"trace_id": t, "span_id": s} for t, s in self.failed],
            "limits": list(self.limits),
        }


def explain(
    story: Story, rules: Sequence[Rule] = RULES, *, suspects: Suspects | None = None
) -> Diagnosis:
    """Run the rules over `story` and assemble the diagnosis; `suspects` finds who else held
    the table of a database call that waited (contention.reader(store))."""
    findings = apply(story, rules)
    found = [root_cause(story, f, suspects) for f in findings if f.kind == "cause"]
    causes = distinct(story, sorted(found, key=lambda c: _order(story, c.span, c.time_ns)))
    diagnosis = Diagnosis(
        key=story.key,
        value=story.value,
        status=_status(story, causes),
        root_causes=tuple(causes),
        cascade=tuple(_consequence(story, f) for f in _by_time(story, findings, "cascade")),
        recoveries=tuple(_consequence(story, f) for f in _by_time(story, findings, "recovery")),
        handled=tuple(root_cause(story, f, None) for f in _handled(story, findings)),
        traces=story.trace_ids,
        logs=story.logs,
        summary="",
        failed=tuple(span.ref for span in story.failed_spans()),
        limits=story.limits,
    )
    return _with_summary(story, diagnosis, findings)


def _order(story: Story, span: Span, time_ns: int) -> tuple[int, int]:
    """Causal order: times on clocks corrected by the edges (skew.py), start as tie-breaker."""
    return (adjusted(story, span, time_ns), adjusted(story, span, span.start_ns))


def _handled(story: Story, findings: list[Finding]) -> list[Finding]:
    """The handled calls and the failed attempts a retry made good, each once."""
    attempts = {attempt.ref for attempt, _ in retried_attempts(story)}
    chosen = [
        f
        for f in findings
        if (f.kind == "handled" and not f.quiet) or (f.kind == "retried" and f.span.ref in attempts)
    ]
    unique = {f.span.ref: f for f in chosen}
    return sorted(unique.values(), key=lambda f: _order(story, f.span, failure_time(story, f.span)))


def _consequence(story: Story, finding: Finding) -> Consequence:
    kind = "cascade"
    if finding.kind == "recovery":
        kind = "compensation" if is_compensation(finding.span) else "retry"
    own = tuple(r for r in story.logs_of(finding.span) if r.is_error)
    return Consequence(finding.span, finding.reason, finding.related, kind, finding.quiet, own)


def _by_time(story: Story, findings: list[Finding], kind: str) -> list[Finding]:
    chosen = [f for f in findings if f.kind == kind]
    return sorted(chosen, key=lambda f: _order(story, f.span, failure_time(story, f.span)))


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
