"""sqlite3: cursor.execute (contrib) and connection.execute (clew) both make client spans."""

from __future__ import annotations

import sqlite3

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from clew.instrumentation._sqlite import instrument_sqlite3, uninstrument_sqlite3
from tests.instrumentation.conftest import Telemetry

tracer = trace.get_tracer(__name__)


def test_connection_execute_is_traced_inside_the_current_span(telemetry: Telemetry) -> None:
    with tracer.start_as_current_span("handler") as handler, sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE t (x INTEGER)")
        db.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
        assert db.execute("SELECT sum(x) FROM t").fetchone() == (3,)
        db.cursor().execute("DELETE FROM t")
    spans = [s for s in telemetry.spans() if s.kind == SpanKind.CLIENT]
    assert [s.name for s in spans] == ["CREATE", "INSERT", "SELECT", "DELETE"]
    assert all(s.parent and s.parent.span_id == handler.get_span_context().span_id for s in spans)


def test_uninstrument_unwraps(telemetry: Telemetry) -> None:
    uninstrument_sqlite3()
    try:
        assert not hasattr(sqlite3.connect, "__wrapped__")
        sqlite3.connect(":memory:").execute("SELECT 1")
        assert telemetry.spans() == []
    finally:
        instrument_sqlite3()
    assert type(sqlite3.connect(":memory:")).__name__ == "_Connection"
