"""Jinja filters shared by the templates."""

from __future__ import annotations

from urllib.parse import quote

import jinja2

from clew.query_ui.logs.view import highlight, key_attributes
from clew.query_ui.read.format import duration, rfc3339

ORDER_KEY = "order.id"


def short_id(value: str, length: int = 8) -> str:
    """The first characters of an id, enough to tell spans apart on screen."""
    return value[:length]


def segment(value: object) -> str:
    """A value as one URL path segment: `/`, `?`, `#`, `%` and the rest percent-encoded."""
    return quote(str(value), safe="")


def key_url(value: object, key: str) -> str:
    """The page of a business key value: /orders/{id} for order.id, else /keys/{key}/{value}."""
    if key == ORDER_KEY:
        return f"/orders/{segment(value)}"
    return f"/keys/{segment(key)}/{segment(value)}"


def since(time_ns: int, start_ns: int) -> str:
    """A time relative to the start of its trace: +12.3 ms."""
    offset = int(time_ns) - int(start_ns)
    return ("-" if offset < 0 else "+") + duration(abs(offset))


def register(env: jinja2.Environment) -> None:
    """Add the filters to a Jinja environment."""
    env.filters["duration"] = duration
    env.filters["since"] = since
    env.filters["rfc3339"] = rfc3339
    env.filters["short"] = short_id
    env.filters["segment"] = segment
    env.filters["key_url"] = key_url
    env.filters["highlight"] = highlight
    env.filters["key_attributes"] = key_attributes
