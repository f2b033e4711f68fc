"""A cheaper equivalent of a per-request step of the contrib ASGI instrumentation.

The contrib ASGI getter decodes every header of the scope for each header it is asked for,
about nine times a request (host twice, user-agent, traceparent, tracestate, baggage,
content-length...): DecodeOnceGetter decodes a header list once and answers from that. It
gives the contrib getter's answers (tests/instrumentation/test_speedups.py compares them) and
is installed over the contrib module global, which the middleware reads at each call;
``restore()`` puts the original back.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from opentelemetry.instrumentation import asgi
from opentelemetry.instrumentation.asgi import ASGIGetter, _decode_header_item

_ORIGINALS: dict[tuple[Any, str], Any] = {}

# (the headers decoded last, as a tuple of (name, value) pairs; them by lower-case name)
_Decoded = tuple[tuple[Any, ...], dict[str, list[str]]]


class DecodeOnceGetter(ASGIGetter):
    """ASGIGetter that decodes a header list once for all the headers asked of it."""

    def __init__(self) -> None:
        self._last: _Decoded = ((), {})

    def get(self, carrier: MutableMapping[str, Any], key: str) -> list[str] | None:
        headers = carrier.get("headers")
        if not headers:
            return None
        # Compared by content (the pairs are mostly the same objects: a pointer compare each),
        # so a header list changed in place since is decoded anew.
        pairs = tuple(headers)
        last = self._last  # one read: another thread may replace it meanwhile
        if pairs != last[0]:
            last = self._last = (pairs, _decode(pairs))
        values = last[1].get(key.lower())
        return list(values) if values else None


def _decode(headers: tuple[Any, ...]) -> dict[str, list[str]]:
    decoded: dict[str, list[str]] = {}
    for name, value in headers:
        values = decoded.setdefault(_decode_header_item(name).lower(), [])  # type: ignore[no-untyped-call]
        values.append(_decode_header_item(value))  # type: ignore[no-untyped-call]
    return decoded


def _replace(module: Any, name: str, value: Any) -> None:
    _ORIGINALS.setdefault((module, name), getattr(module, name))
    setattr(module, name, value)


def install_asgi() -> None:
    """The decode-once getter for every ASGI server span."""
    _replace(asgi, "asgi_getter", DecodeOnceGetter())


def restore() -> None:
    """Put the contrib getter back."""
    for (module, name), original in _ORIGINALS.items():
        setattr(module, name, original)
    _ORIGINALS.clear()
