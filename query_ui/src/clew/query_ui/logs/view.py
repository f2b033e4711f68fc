"""How a log line is shown: the body's matching words marked, its key attributes first."""

from __future__ import annotations

import re

from clew.query_ui.read.model import LogRecord

# Attributes worth a glance on the line itself; the rest are in its details.
KEY_ATTRIBUTES = ("http.route", "http.response.status_code", "exception.type", "customer.id",
                  "user.id", "messaging.destination.name", "db.system")  # fmt: skip


def highlight(body: str, terms: list[str]) -> list[tuple[str, bool]]:
    """`body` cut into (text, matched) pieces, the terms matched case-insensitively."""
    wanted = sorted({t for t in terms if t}, key=len, reverse=True)
    if not wanted:
        return [(body, False)]
    pattern = re.compile("|".join(re.escape(t) for t in wanted), re.IGNORECASE)
    pieces: list[tuple[str, bool]] = []
    at = 0
    for found in pattern.finditer(body):
        if found.start() > at:
            pieces.append((body[at : found.start()], False))
        pieces.append((found.group(0), True))
        at = found.end()
    if at < len(body):
        pieces.append((body[at:], False))
    return pieces


def key_attributes(record: LogRecord, business_keys: list[str]) -> list[tuple[str, str]]:
    """The business keys and the usual identifying attributes the record carries."""
    names = [*business_keys, *KEY_ATTRIBUTES]
    return [(n, record.attributes[n]) for n in dict.fromkeys(names) if record.attributes.get(n)]
