"""The UI's view of a store: every query read-only and bounded in time and rows; no writes.

ClickHouse enforces it, per query: `readonly = 2` (read queries only; settings may still be
set, which the limits below need), `max_execution_time` and `max_result_rows`. A query's own
time limit is kept when it is tighter (the search's partial results rely on it); a looser one is
cut to the ceiling with `timeout_overflow_mode = 'throw'`, so it fails with a clear error
instead of returning a silent part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clew.common.store import QueryResult, Store
from clew.query_ui.errors import QueryLimitError, ReadOnlyError, RowLimitError


class ReadOnlyStore:
    """Wraps a store for the UI; `command` and `insert` are refused before reaching it."""

    def __init__(self, store: Store, *, max_execution_time: float, max_result_rows: int) -> None:
        self.store = store
        self.max_execution_time = max_execution_time
        self.max_result_rows = max_result_rows

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run a SELECT under the UI's limits, read-only; a write is refused by ClickHouse."""
        try:
            return self.store.query(sql, parameters, settings=self.settings(settings))
        except Exception as exc:  # the backends' errors differ; ClickHouse's code names do not
            raise self._translated(exc) from exc

    def settings(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The query's own settings, tightened to the UI's ceilings, then read-only."""
        merged = dict(given or {})
        own_time = float(merged.get("max_execution_time", 0) or 0)
        if not 0 < own_time <= self.max_execution_time:
            merged["max_execution_time"] = self.max_execution_time
            merged["timeout_overflow_mode"] = "throw"
        own_rows = int(merged.get("max_result_rows", 0) or 0)
        if not 0 < own_rows <= self.max_result_rows:
            merged["max_result_rows"] = self.max_result_rows
            merged["result_overflow_mode"] = "throw"
        merged["readonly"] = 2
        return merged

    def _translated(self, exc: Exception) -> Exception:
        text = str(exc)
        if "TOO_MANY_ROWS_OR_BYTES" in text or "Code: 396" in text:
            return RowLimitError(
                f"the result passed the UI's limit of {self.max_result_rows} rows "
                "(CLEW_UI_MAX_RESULT_ROWS); narrow the time range or add filters"
            )
        if "TIMEOUT_EXCEEDED" in text or "Code: 159" in text:
            return QueryLimitError(
                f"the query stopped at the UI's time limit of {self.max_execution_time:g} s "
                "(CLEW_UI_MAX_EXECUTION_TIME); narrow the time range or add filters"
            )
        if "READONLY" in text or "Code: 164" in text:
            return ReadOnlyError("the UI's connection is read-only: it cannot change data")
        return exc

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Refused: the UI does not run statements."""
        raise ReadOnlyError("the UI's connection is read-only: it runs no statements")

    def insert(
        self, table: str, data: str, fmt: str = "JSONEachRow", *, token: str | None = None
    ) -> None:
        """Refused: the UI does not write."""
        raise ReadOnlyError("the UI's connection is read-only: it inserts nothing")

    def close(self) -> None:
        """Close the wrapped store (only for a store the UI opened itself)."""
        self.store.close()
