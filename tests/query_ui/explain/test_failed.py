"""The one definition of a failed span, clause by clause."""

from __future__ import annotations

import pytest

from clew.query_ui.explain.failed import describe, failure_time, is_failed, is_timeout, signals
from clew.query_ui.explain.story import Story, normalize_kind, normalize_status
from tests.query_ui.explain.scenarios import MS, T0, Builder


def _one(**kwargs: object) -> tuple[Builder, Story]:
    b = Builder("o-1")
    b.span(b.trace(), "op", "svc", **kwargs)  # type: ignore[arg-type]
    return b, b.story()


def test_a_plain_span_did_not_fail() -> None:
    _, story = _one(attrs={"http.response.status_code": "404"})
    assert not is_failed(story, story.spans[0])


def test_status_error_is_a_failure() -> None:
    _, story = _one(status="Error", message="boom")
    assert [s.kind for s in signals(story, story.spans[0])] == ["status"]
    assert describe(story, story.spans[0]) == ("Error", "boom")


def test_an_exception_event_is_a_failure_even_with_status_unset() -> None:
    _, story = _one(exception=("ValueError", "bad"))
    span = story.spans[0]
    assert is_failed(story, span)
    assert describe(story, span) == ("ValueError", "bad")


@pytest.mark.parametrize("attribute", ["http.response.status_code", "http.status_code"])
def test_http_5xx_is_a_failure_in_both_attribute_spellings(attribute: str) -> None:
    _, story = _one(attrs={attribute: "502"})
    assert describe(story, story.spans[0]) == ("HTTP 502", "HTTP status 502")


def test_an_error_log_written_in_a_span_is_a_failure_and_a_warning_is_not() -> None:
    b = Builder("o-1")
    span = b.span(b.trace(), "op", "svc", ms=10)
    b.log(span, 2, "WARN", "slow")
    assert not is_failed(b.story(), span)
    b.log(span, 4, "ERROR", "lost it")
    story = b.story()
    assert is_failed(story, span)
    assert failure_time(story, span) == T0 + 4 * MS


def test_a_compensation_fails_like_any_other_span() -> None:
    _, story = _one(status="Error", attrs={"clew.compensation": "true"})
    assert is_failed(story, story.spans[0])


def test_timeouts_are_recognised_by_exception_status_or_504() -> None:
    _, by_exception = _one(exception=("httpx.ReadTimeout", "timed out"))
    _, by_504 = _one(attrs={"http.response.status_code": "504"})
    _, plain = _one(exception=("ValueError", "bad"))
    assert is_timeout(by_exception, by_exception.spans[0])
    assert is_timeout(by_504, by_504.spans[0])
    assert not is_timeout(plain, plain.spans[0])


def test_both_enum_spellings_are_read() -> None:
    assert normalize_status("STATUS_CODE_ERROR") == normalize_status("Error") == "Error"
    assert normalize_kind("SPAN_KIND_SERVER") == normalize_kind("Server") == "Server"
    assert normalize_kind("") == "Unspecified" and normalize_status("") == "Unset"
