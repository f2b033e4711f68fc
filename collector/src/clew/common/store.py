"""The store interface every backend implements, and its result type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class QueryResult:
    """Rows of a query, with their column names."""

    column_names: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def named(self) -> list[dict[str, Any]]:
        """Each row as a dict keyed by column name."""
        return [dict(zip(self.column_names, row, strict=True)) for row in self.rows]


class Store(Protocol):
    """A ClickHouse the collector writes to and the UI reads from.

    Values are bound as ClickHouse typed parameters (`{name:Type}`), never formatted into SQL.
    Results: DateTime64 as a string in ClickHouse's text format
    ('2026-11-21 12:00:00.123456789', UTC), Map as dict, Array and Nested columns as lists,
    64-bit integers as int.
    """

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """Run a SELECT and return its rows."""

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows (DDL, INSERT ... SELECT)."""

    def insert(
        self, table: str, data: str, fmt: str = "JSONEachRow", *, token: str | None = None
    ) -> None:
        """Insert rows already encoded in a ClickHouse input format.

        `token` is the insert's deduplication token: a repeated token is stored once, in the
        ingest views' target tables too (the server store uses the rows' digest without one).
        """

    def close(self) -> None:
        """Release the backend; the store is unusable afterwards."""


@runtime_checkable
class ProtobufTraces(Protocol):
    """A store that can read raw OTLP trace requests itself (the fast span path, ADR 0001)."""

    def insert_otlp_traces(self, messages: list[bytes]) -> list[int]:
        """Insert raw ExportTraceServiceRequest messages through ClickHouse's Protobuf format.

        Returns the positions of the messages the fast path left out (nested AnyValue arrays
        or maps, invalid ids); the caller writes those as rows.
        """


@runtime_checkable
class LocalTables(Protocol):
    """A store whose tables are files on this machine, with MergeTree settings of its own for
    every table (the embedded store; a server keeps its own configuration)."""

    table_settings: Mapping[str, int]
