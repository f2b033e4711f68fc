"""sqlite3: the contrib instrumentation traces cursor.execute; clew adds connection.execute.

``connection.execute(...)`` is sqlite3's own shortcut that makes a cursor in C, out of the
contrib proxy's reach, so the most common way of writing to sqlite3 left no span.
"""

from __future__ import annotations

from typing import Any

import wrapt


class _Connection(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """The contrib connection proxy, whose execute shortcuts go through its traced cursors."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__.cursor().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__.cursor().executemany(*args, **kwargs)

    def __enter__(self) -> _Connection:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *args: Any) -> Any:
        return self.__wrapped__.__exit__(*args)


def _connect(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> _Connection:
    return _Connection(wrapped(*args, **kwargs))


def instrument_sqlite3() -> None:
    """Contrib's sqlite3 instrumentation, plus traced connection.execute/executemany."""
    import sqlite3

    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    instrumentor = SQLite3Instrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        return
    instrumentor.instrument()
    for module in (sqlite3, sqlite3.dbapi2):
        wrapt.wrap_function_wrapper(module, "connect", _connect)


def uninstrument_sqlite3() -> None:
    """Undo instrument_sqlite3()."""
    import sqlite3

    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    for module in (sqlite3, sqlite3.dbapi2):
        connect = module.connect
        if isinstance(connect, wrapt.FunctionWrapper) and connect._self_wrapper is _connect:
            module.connect = connect.__wrapped__  # type: ignore[attr-defined]
    instrumentor = SQLite3Instrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
