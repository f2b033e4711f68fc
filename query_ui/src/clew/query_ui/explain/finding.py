"""What a rule concludes about one span."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from clew.query_ui.read.model import Span

FindingKind = Literal["cause", "cascade", "recovery", "retried", "handled"]
"""cause: a failure started here; cascade: failed because of a failure below it;
recovery: a compensation or a successful retry; retried: a failure that a retry made good;
handled: a failed call that its caller carried on from."""


@dataclass(frozen=True)
class Finding:
    """One conclusion of one rule; for each span the first rule (in rules.RULES order) wins."""

    kind: FindingKind
    span: Span
    reason: str
    related: Span | None = None
    """cascade: the failure below that caused it; cause: the caller whose timeout it explains;
    recovery and retried: the other attempt; handled: the caller that carried on."""
    quiet: bool = False
    """Not worth a sentence in the summary (still listed in the diagnosis)."""
