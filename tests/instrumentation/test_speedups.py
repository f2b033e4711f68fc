"""clew's decode-once ASGI getter answers as the contrib getter does, and is the one in use."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.instrumentation import asgi
from opentelemetry.instrumentation.asgi import ASGIGetter

from clew.instrumentation._speedups import DecodeOnceGetter
from tests.instrumentation.conftest import Telemetry

HEADERS = [
    (b"Host", b"127.0.0.1:8000"),
    (b"user-agent", b"bench \xc3\xa9"),
    (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    (b"baggage", b"order.id=o-1"),
    (b"baggage", b"tenant=t"),
    (b"x-latin", b"caf\xe9"),  # not UTF-8: both decode it with unicode_escape
]
KEYS = ["host", "HOST", "user-agent", "traceparent", "baggage", "x-latin", "missing", ""]


@pytest.mark.parametrize("headers", [HEADERS, [], None, HEADERS[:1]])
def test_same_answers_as_the_contrib_getter(headers: list[Any] | None) -> None:
    carrier = {} if headers is None else {"headers": headers}
    ours, theirs = DecodeOnceGetter(), ASGIGetter()
    for key in KEYS * 2:  # the second round answers from what the first decoded
        assert ours.get(carrier, key) == theirs.get(carrier, key), key


def test_headers_changed_in_place_are_decoded_anew() -> None:
    getter = DecodeOnceGetter()
    headers = list(HEADERS)
    carrier = {"headers": headers}
    assert getter.get(carrier, "host") == ["127.0.0.1:8000"]
    headers[0] = (b"host", b"example:1")  # same list, same length
    assert getter.get(carrier, "host") == ["example:1"]
    headers.append((b"content-length", b"3"))
    assert getter.get(carrier, "content-length") == ["3"]
    assert getter.get({"headers": [(b"host", b"other")]}, "host") == ["other"]


def test_answers_are_copies() -> None:
    getter = DecodeOnceGetter()
    carrier = {"headers": HEADERS}
    first = getter.get(carrier, "baggage")
    assert first is not None
    first.append("changed")
    assert getter.get(carrier, "baggage") == ["order.id=o-1", "tenant=t"]


def test_setup_installs_it_and_uninstrument_restores(telemetry: Telemetry) -> None:
    from clew.instrumentation import _libraries

    assert isinstance(asgi.asgi_getter, DecodeOnceGetter)
    _libraries.uninstrument_installed()
    try:
        assert type(asgi.asgi_getter) is ASGIGetter
    finally:
        _libraries.instrument_installed()
    assert isinstance(asgi.asgi_getter, DecodeOnceGetter)
