"""The one definition of a failed span (read/failed.py), clause by clause, and how the explainer
describes one (explain/describe.py)."""

from __future__ import annotations

import pytest

from clew.query_ui.explain.describe import describe, failure_time, is_timeout
from clew.query_ui.read.model import normalise_kind, normalise_status
from clew.query_ui.read.story import Story
from tests.query_ui.explain.scenarios import MS, T0, Builder


def _one(**kwargs: object) -> tuple[Builder, Story]:
    b = Builder("o-1")
    b.span(b.trace(), "op", "svc", **kwargs)  # type: ignore[arg-type]
    return b, b.story()


def test_a_plain_span_did_not_fail() -> None:
    _, story = _one(attrs={"http.response.status_code": "404"})
    assert not story.failed(story.spans[0])


def test_status_error_is_a_failure() -> None:
    _, story = _one(status="Error", message="boom")
    assert [s.kind for s in story.signals(story.spans[0])] == ["status"]
    assert describe(story, story.spans[0]) == ("Error", "boom")


def test_an_exception_event_is_a_failure_even_with_status_unset() -> None:
    _, story = _one(exception=("ValueError", "bad"))
    span = story.spans[0]
    assert story.failed(span)
    assert describe(story, span) == ("ValueError", "bad")


@pytest.mark.parametrize("attribute", ["http.response.status_code", "http.status_code"])
def test_http_5xx_is_a_failure_in_both_attribute_spellings(attribute: str) -> None:
    _, story = _one(attrs={attribute: "502"})
    assert describe(story, story.spans[0]) == ("HTTP 502", "HTTP status 502")


def test_an_error_log_written_in_a_span_is_a_failure_and_a_warning_is_not() -> None:
    b = Builder("o-1")
    span = b.span(b.trace(), "op", "svc", ms=10)
    b.log(span, 2, "WARN", "slow")
    assert not b.story().failed(span)
    b.log(span, 4, "ERROR", "lost it")
    story = b.story()
    assert story.failed(span)
    assert failure_time(story, span) == T0 + 4 * MS


def test_a_compensation_that_ends_in_error_is_a_failed_span() -> None:
    # Whether it is a recovery or a problem of its own is the explainer's question, not this one.
    _, story = _one(status="Error", attrs={"clew.compensation": "true"})
    assert story.failed(story.spans[0])


def test_a_5xx_in_the_older_attribute_counts_beside_a_2xx_in_the_current_one() -> None:
    # As the failed-span index's SQL reads it (schema/016): either attribute at 500 or more.
    _, story = _one(attrs={"http.response.status_code": "200", "http.status_code": "503"})
    assert [s.text for s in story.signals(story.spans[0])] == ["HTTP 503"]


def test_an_error_log_known_only_from_the_index_still_fails_the_span() -> None:
    b = Builder("o-1")
    span = b.span(b.trace(), "op", "svc")
    story = Story(b.spans, error_logged=[span.ref])
    assert [s.kind for s in story.signals(span)] == ["error_log"]


def test_timeouts_are_recognised_by_exception_status_or_504() -> None:
    _, by_exception = _one(exception=("httpx.ReadTimeout", "timed out"))
    _, by_504 = _one(attrs={"http.response.status_code": "504"})
    _, plain = _one(exception=("ValueError", "bad"))
    assert is_timeout(by_exception, by_exception.spans[0])
    assert is_timeout(by_504, by_504.spans[0])
    assert not is_timeout(plain, plain.spans[0])


def test_both_enum_spellings_are_read() -> None:
    assert normalise_status("STATUS_CODE_ERROR") == normalise_status("Error") == "Error"
    assert normalise_kind("SPAN_KIND_SERVER") == normalise_kind("Server") == "Server"
    assert normalise_kind("") == "Unspecified" and normalise_status("") == "Unset"
