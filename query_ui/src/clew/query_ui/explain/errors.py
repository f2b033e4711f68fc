"""The explainer's errors.

ExplainError
└── NotFound: nothing is stored for a business key and value (the API answers 404).
"""

from __future__ import annotations

from typing import ClassVar


class ExplainError(Exception):
    """Root of the explainer's errors."""

    retriable: ClassVar[bool] = False


class NotFound(ExplainError, LookupError):
    """Nothing is stored for this business key and value."""

    # Spans may still be on their way (batched in a service or in the collector).
    retriable: ClassVar[bool] = True

    def __init__(self, key: str, value: str) -> None:
        super().__init__(f"nothing was found for {key}={value!r}")
        self.key = key
        self.value = value
