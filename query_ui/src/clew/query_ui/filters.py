"""Jinja filters shared by the templates."""

from __future__ import annotations

import jinja2

from clew.query_ui.model import human_duration, rfc3339


def short_id(value: str, length: int = 8) -> str:
    """The first characters of an id, enough to tell spans apart on screen."""
    return value[:length]


def register(env: jinja2.Environment) -> None:
    """Add the filters to a Jinja environment."""
    env.filters["duration"] = human_duration
    env.filters["rfc3339"] = rfc3339
    env.filters["short"] = short_id
