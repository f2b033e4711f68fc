"""Rule: a span that only reports its parent's failed response is cascade of the parent.

The ASGI instrumentation, for one, writes an "http send" span under the server span for the
response start; when the handler failed, that span carries the same 5xx (and status Error).
It did not fail by itself: an Internal span of the same service as its failed parent, whose
only signals are a status and the same HTTP code as the parent's, with no failed call below.
"""

from __future__ import annotations

from clew.query_ui.explain.finding import Finding
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

REPORTING_SIGNALS = frozenset({"status", "http"})
REPORTING_KINDS = frozenset({"Internal", "Unspecified"})


def echo(story: Story) -> list[Finding]:
    """Every span whose failure only repeats its parent's response, as cascade of the parent."""
    findings: list[Finding] = []
    for span in story.spans:
        parent = story.parent(span)
        if parent is not None and echoes(story, span):
            reason = f"reported the failed response of {parent.label}"
            findings.append(Finding("cascade", span, reason, related=parent, quiet=True))
    return findings


def echoes(story: Story, span: Span) -> bool:
    """Whether `span` failed only by reporting its parent's failed HTTP response."""
    parent = story.parent(span)
    own = story.signals(span)
    return (
        parent is not None
        and bool(own)
        and span.kind in REPORTING_KINDS
        and span.service == parent.service
        and {s.kind for s in own} <= REPORTING_SIGNALS
        and span.http_status is not None
        and span.http_status == parent.http_status
        and not any(story.failed(s) for s in story.called(span))
    )
