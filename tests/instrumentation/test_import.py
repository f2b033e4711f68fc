"""Importing clew.instrumentation pulls in none of the instrumented libraries."""

from __future__ import annotations

from tests.instrumentation.helpers import run_python

HEAVY = ["fastapi", "starlette", "aiokafka", "structlog", "httpx", "requests", "sqlite3", "uvicorn"]


def test_import_is_light() -> None:
    result = run_python(
        f"""
        import sys
        import clew.instrumentation
        loaded = [m for m in {HEAVY!r} if m in sys.modules]
        print(json.dumps({{"loaded": loaded}}))
        """
    )
    assert result == {"loaded": []}


def test_auto_import_instruments_installed_libraries() -> None:
    result = run_python(
        """
        import clew.instrumentation.auto
        import fastapi
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        print(json.dumps({"fastapi": fastapi.FastAPI.__name__,
                          "httpx": HTTPXClientInstrumentor().is_instrumented_by_opentelemetry}))
        """,
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
    )
    assert result == {"fastapi": "_InstrumentedFastAPI", "httpx": True}
