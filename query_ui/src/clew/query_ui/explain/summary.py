"""The diagnosis as a paragraph for a person reading it at 2 AM."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from clew.query_ui.read.format import rfc3339

if TYPE_CHECKING:
    from clew.query_ui.explain.diagnosis import Diagnosis, RootCause

MAX_LISTED = 5
"""Longer lists are cut in the paragraph; the JSON has them all."""


def summarize(diagnosis: Diagnosis, *, span_count: int, retried_failures: int) -> str:
    """One paragraph: the outcome, where it started, what it took down, what recovered."""
    subject = f"{diagnosis.key}={diagnosis.value}"
    scope = (
        f"{len(diagnosis.traces)} trace(s), {span_count} span(s) and {len(diagnosis.logs)} log(s)"
    )
    recovered = bool(retried_failures or diagnosis.recoveries or diagnosis.handled)
    parts = [_outcome(diagnosis, subject, scope, recovered)]
    parts.extend(_cause_sentence(i, cause) for i, cause in enumerate(diagnosis.root_causes))
    cascade = [c for c in diagnosis.cascade if not c.quiet]
    if cascade:
        taken = _listing(f"{c.span.label} ({c.reason})" for c in cascade)
        parts.append(f"It took down {len(cascade)} span(s): {taken}.")
    if retried_failures:
        parts.append(f"{retried_failures} failure(s) were made good by a successful retry.")
    if diagnosis.handled:
        handled = _listing(f"{h.span.label} ({h.error_type})" for h in diagnosis.handled)
        parts.append(f"Handled along the way, not causes: {handled}.")
    compensations = [r for r in diagnosis.recoveries if r.kind == "compensation"]
    if compensations:
        parts.append(f"Compensated by {_listing(r.span.label for r in compensations)}.")
        if not diagnosis.root_causes:
            parts.append("No failure was recorded for that compensation to undo.")
    parts.extend(diagnosis.limits)
    return " ".join(parts)


def _outcome(diagnosis: Diagnosis, subject: str, scope: str, recovered: bool) -> str:
    if diagnosis.status == "failed":
        count = len(diagnosis.root_causes)
        which = "one originating failure" if count == 1 else f"{count} independent failures"
        return f"{subject} failed, with {which}, across {scope}."
    if diagnosis.status == "succeeded":
        # With a recovery something did fail on the way; "nothing failed" would contradict it.
        verdict = "nothing that failed stayed failed" if recovered else "nothing failed"
        return f"{subject} succeeded: {verdict} in {scope}."
    return f"The outcome of {subject} is unknown from {scope}."


def _cause_sentence(index: int, cause: RootCause) -> str:
    lead = "It started" if index == 0 else "Independently,"
    where = f"at {rfc3339(cause.time_ns)} in {cause.span.label}"
    what = f"{cause.error_type}: {cause.message}" if cause.message else cause.error_type
    repeated = [e["text"] for e in cause.evidence if e.get("kind") == "repeated"]
    if repeated:
        what += f", {repeated[0]}"
    details = [_detail(item) for item in cause.evidence]
    extra = "; ".join(d for d in details if d)
    return f"{lead} {where}: {what}" + (f" ({extra})." if extra else ".")


def _detail(item: dict[str, object]) -> str:
    kind = item.get("kind")
    if kind == "db.statement":
        return f"statement: {item['statement']}"
    if kind == "messaging":
        place = [f"{name} {item[name]}" for name in ("partition", "offset", "group", "key")
                 if item.get(name)]  # fmt: skip
        return " ".join([f"topic {item['destination']}", *place])
    if kind == "http":
        return f"HTTP {item['status_code']}"
    if kind in ("peer", "compensation") or (kind == "contention" and item.get("suspects")):
        return str(item["text"])
    return ""


def _listing(items: Iterable[str]) -> str:
    names = list(items)
    shown = ", ".join(str(n) for n in names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")
