"""Errors of the query UI, each mapped to one HTTP status in `app.py`.

QueryUIError                 the root; `status_code` is what the API answers
├── NotFoundError            404: no trace, no key value, nothing stored for what was asked
├── InvalidQueryError        400: a search filter or id that cannot be understood
│   └── InvalidParameterError 422: a query parameter that is malformed or unknown (named)
├── QueryLimitError          504: ClickHouse stopped a query at its time limit (retriable)
├── RowLimitError            422: a result passed the UI's row limit (CLEW_UI_MAX_RESULT_ROWS)
├── ReadOnlyError            403: something tried to write through the UI's read-only store
└── StoreError               503: the store failed or is unreachable (retriable)
"""

from __future__ import annotations

from typing import ClassVar


class QueryUIError(Exception):
    """Root of the query UI's errors."""

    status_code: ClassVar[int] = 500
    retriable: ClassVar[bool] = False
    title: ClassVar[str] = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(QueryUIError):
    """Nothing is stored for what was asked."""

    status_code = 404
    title = "Not found"


class InvalidQueryError(QueryUIError):
    """A filter, id or option that cannot be understood."""

    status_code = 400
    title = "Invalid query"


class InvalidParameterError(InvalidQueryError):
    """A query parameter that cannot be understood, or that the route does not take."""

    status_code = 422
    title = "Invalid parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"parameter {parameter!r}: {message}")
        self.parameter = parameter


class QueryLimitError(QueryUIError):
    """A query ran into its time limit; a narrower query may succeed."""

    status_code = 504
    retriable = True
    title = "Query time limit reached"


class StoreError(QueryUIError):
    """The store failed; retrying later may succeed."""

    status_code = 503
    retriable = True
    title = "Store unavailable"


class RowLimitError(QueryUIError):
    """A result passed the UI's row limit; a narrower query may succeed."""

    status_code = 422
    title = "Query row limit reached"


class ReadOnlyError(QueryUIError):
    """A write reached the UI's store, which only reads."""

    status_code = 403
    title = "Read-only"


# What the API's routes can answer besides 200, for the OpenAPI schema: every error above by its
# status, and the two that come from outside this hierarchy.
OUTSIDE: dict[int, str] = {
    401: "no valid token (CLEW_UI_TOKEN is set): send Authorization: Bearer <token>",
    422: "a parameter is missing, unknown or malformed (the answer names it)",
}


def responses() -> dict[int | str, dict[str, str]]:
    """Each error status the API may answer, with what it means (OpenAPI `responses`)."""
    found: dict[int, list[str]] = {status: [text] for status, text in OUTSIDE.items()}
    pending: list[type[QueryUIError]] = list(QueryUIError.__subclasses__())
    while pending:
        error = pending.pop(0)
        pending += error.__subclasses__()
        summary = (error.__doc__ or error.title).strip().splitlines()[0]
        found.setdefault(error.status_code, []).append(summary)
    return {status: {"description": "; ".join(texts)} for status, texts in sorted(found.items())}
