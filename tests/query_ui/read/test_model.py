"""The read model's values: what the loader's fast constructor makes is what __init__ makes."""

from __future__ import annotations

import dataclasses

import pytest

from clew.query_ui.read.model import Event, Link, Span


def _fields() -> dict[str, object]:
    return {
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
        "parent_span_id": "ef" * 8,
        "name": "POST",
        "service": "checkout",
        "start_ns": 1_000,
        "duration_ns": 250,
        "kind": "Client",
        "status": "Error",
        "status_message": "boom",
        "attributes": {"http.request.method": "POST", "http.response.status_code": "503"},
        "events": (Event("exception", 1_100, {"exception.type": "ValueError"}),),
        "links": (Link("12" * 16, "34" * 8),),
        "resource": {"service.name": "checkout"},
        "scope": "clew 1.0",
    }


def test_from_fields_makes_the_span_the_constructor_makes() -> None:
    fast = Span.from_fields(_fields())
    slow = Span(**_fields())  # type: ignore[arg-type]
    assert fast == slow
    assert fast.ref == slow.ref == ("ab" * 16, "cd" * 8)
    assert (fast.end_ns, fast.http_statuses, fast.display_name) == (
        slow.end_ns,
        slow.http_statuses,
        slow.display_name,
    )
    assert {f.name for f in dataclasses.fields(Span)} == {*_fields(), "ref"}


def test_a_span_from_fields_is_frozen_like_any_other() -> None:
    span = Span.from_fields(_fields())
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.name = "GET"  # type: ignore[misc]
