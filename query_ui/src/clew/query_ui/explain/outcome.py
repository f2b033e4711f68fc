"""The outcome of a span: whether whoever waited for it got a success."""

from __future__ import annotations

from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

CLIENT_ERROR = 400


def answered_ok(story: Story, span: Span) -> bool:
    """Not failed, and no error answered: a 4xx is not a failed span, but a failed outcome."""
    status = span.http_status
    return not story.failed(span) and (status is None or status < CLIENT_ERROR)
