"""Rule: a call that failed and then succeeded on retry is not the cause of anything.

Two spans are attempts of the same call when they have the same service, name and kind, the
same parent span (a client's retry loop, an HTTP client's resend) and the same request
attributes (REQUEST_IDENTITY: method; where the call went, its full URL or its server address
and port with its route or URL path; statement, topic, ASGI event type; the ASGI
instrumentation's two "http send" spans of one response are not two attempts). A failed call to
one host followed by a successful call to another (a failover, a fan-out) is two calls, not a
retry. Root spans have no
parent: two roots of the story (a client retrying a whole request with a new trace, a Kafka
consumer handling a redelivered message in a new trace) are attempts of the same call when
they also link to the same spans and carry the same Kafka partition and offset, if any.
A failed attempt followed by a later attempt that did not fail is "retried": it and every
failure under it are listed as made good by the retry, neither cause nor cascade. Repeated work
is not a retry: a loop runs the same statement once per item. Under a parent, two calls are
attempts only with a retry's evidence: the later one says it is a resend
(`http.request.resend_count`), or the parent answered success, so the failure was made good;
a failed iteration under a failed parent is a failure even when later iterations succeeded.
When every attempt of a call failed, attempts() says so ("N attempts, all failed").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.outcome import answered_ok
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

REQUEST_IDENTITY = (
    "http.request.method",
    "http.method",
    "url.full",
    "http.url",
    "server.address",
    "server.port",
    "net.peer.name",
    "net.peer.port",
    "http.route",
    "url.path",
    "http.target",
    "db.query.text",
    "db.statement",
    "messaging.destination.name",
    "rpc.method",
    "asgi.event.type",
)
RESEND_COUNT = "http.request.resend_count"
MESSAGE_IDENTITY = (
    "messaging.destination.partition.id",
    "messaging.kafka.message.offset",
    "messaging.kafka.offset",
    "messaging.message.id",
)


def retried(story: Story) -> list[Finding]:
    """The successful retries (recoveries) and the failures they made good (retried)."""
    findings: list[Finding] = []
    for attempt, retry in retried_attempts(story):
        findings.append(
            Finding("recovery", retry, f"retry of {attempt.label} succeeded", related=attempt)
        )
        for span in (attempt, *story.descendants(attempt)):
            if story.failed(span):
                reason = f"made good by a later successful attempt of {attempt.label}"
                findings.append(Finding("retried", span, reason, related=retry))
    return findings


def retried_attempts(story: Story) -> list[tuple[Span, Span]]:
    """(failed attempt, the first later attempt that did not fail)."""
    memo = story.memo["retried_attempts"]
    if "pairs" not in memo:
        memo["pairs"] = _retried_attempts(story)
    pairs: list[tuple[Span, Span]] = memo["pairs"]
    return pairs


def _retried_attempts(story: Story) -> list[tuple[Span, Span]]:
    pairs: list[tuple[Span, Span]] = []
    for attempts in _groups(story).values():
        for i, attempt in enumerate(attempts):
            if not story.failed(attempt):
                continue
            later = (s for s in attempts[i + 1 :] if not story.failed(s))
            retry = next(later, None)
            if retry is not None and _is_retry(story, retry):
                pairs.append((attempt, retry))
    return pairs


def _groups(story: Story) -> dict[Hashable, list[Span]]:
    """Spans by call identity, each group in start order (the story's order)."""
    memo = story.memo["call_groups"]
    if "groups" not in memo:
        groups: dict[Hashable, list[Span]] = defaultdict(list)
        for span in story.spans:
            groups[call_identity(story, span)].append(span)
        memo["groups"] = groups
    found: dict[Hashable, list[Span]] = memo["groups"]
    return found


def _is_retry(story: Story, later: Span) -> bool:
    """Whether a later call of the same identity is a retry rather than the next iteration."""
    parent = story.parent(later)
    resent = later.attributes.get(RESEND_COUNT, "0")
    return parent is None or (resent.isdigit() and int(resent) > 0) or answered_ok(story, parent)


def attempts(story: Story, span: Span) -> list[Span]:
    """The attempts of the call `span` is one of, when there were several and all failed."""
    group = _groups(story)[call_identity(story, span)]
    if len(group) > 1 and all(story.failed(s) for s in group):
        return group
    return []


def retried_spans(story: Story) -> set[tuple[str, str]]:
    """Refs of every span inside a failed attempt that a retry made good."""
    refs: set[tuple[str, str]] = set()
    for attempt, _ in retried_attempts(story):
        refs.add(attempt.ref)
        refs.update(s.ref for s in story.descendants(attempt))
    return refs


def call_identity(story: Story, span: Span) -> Hashable:
    """What makes two spans attempts of the same call (see the module docstring)."""
    request = tuple(span.attributes.get(name, "") for name in REQUEST_IDENTITY)
    call = (span.service, span.name, span.kind, request)
    if span.parent_span_id:
        return (*call, span.trace_id, span.parent_span_id)
    links = frozenset((link.trace_id, link.span_id) for link in span.links)
    message = tuple(span.attributes.get(name, "") for name in MESSAGE_IDENTITY)
    return (*call, links, message)
