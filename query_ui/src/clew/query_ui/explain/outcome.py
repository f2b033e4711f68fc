"""The outcome of a span: whether whoever waited for it got a success."""

from __future__ import annotations

from clew.query_ui.explain.failed import http_status, is_failed
from clew.query_ui.explain.story import Span, Story

CLIENT_ERROR = 400


def answered_ok(story: Story, span: Span) -> bool:
    """Not failed, and no error answered: a 4xx is not a failed span, but a failed outcome."""
    status = http_status(span)
    return not is_failed(story, span) and (status is None or status < CLIENT_ERROR)
