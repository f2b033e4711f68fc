"""A root cause's signature: what two failures must share to be one group.

Service, operation (span name), error type and the message with its variable parts masked:
numbers become <n>, and any other word holding a digit (UUIDs, hex ids, order ids, addresses)
becomes <id>, so "order ord-1 failed after 3.2 s" and "order ord-77 failed after 0.4 s" are
one group.

Business failure or fault: a failure is a business failure (the system said no, as designed:
a declined card, out of stock) when the root-cause span, or one of its ancestors in the same
service up to the span that served the request, carries `error.business = true`, or when that
serving span answered an HTTP status from 400 to 499, or when the error type is one of the
configured business error types (CLEW_OVERVIEW_BUSINESS_ERRORS). Everything else is a fault.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection

from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_TOKEN = re.compile(r"[\w.:/@+-]*\d[\w.:/@+-]*")
_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)*$")
MAX_MESSAGE = 500
SERVING_KINDS = ("Server", "Consumer")


def mask(message: str) -> str:
    """The message with ids and numbers replaced by placeholders, cut to MAX_MESSAGE."""
    text = _UUID.sub("<id>", message[: MAX_MESSAGE * 2])
    text = _TOKEN.sub(_placeholder, text)
    return " ".join(text.split())[:MAX_MESSAGE]


def _placeholder(found: re.Match[str]) -> str:
    return "<n>" if _NUMBER.match(found.group(0)) else "<id>"


def signature(service: str, operation: str, error_type: str, masked: str) -> str:
    """A short stable hash of the four parts of a signature."""
    joined = "\x1f".join((service, operation, error_type, masked))
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def is_business(
    story: Story, span: Span, error_type: str, business_errors: Collection[str]
) -> bool:
    """Whether the failure at `span` is a business failure (see the module's docstring)."""
    if error_type in business_errors or error_type.rsplit(".", 1)[-1] in business_errors:
        return True
    for current in (span, *story.ancestors(span)):
        if current.service != span.service:
            break
        if current.attributes.get("error.business", "").lower() in ("true", "1"):
            return True
        if current.kind in SERVING_KINDS:
            status = current.http_status
            return status is not None and 400 <= status < 500
    return False
