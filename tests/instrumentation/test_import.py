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


def test_libraries_not_installed_are_left_alone() -> None:
    """A service without aiokafka, structlog or requests still sets up and traces the rest."""
    result = run_python(
        """
        import sys
        for name in ("aiokafka", "structlog", "requests"):
            sys.modules[name] = None  # what find_spec and import see for a missing package
        import clew.instrumentation as ci
        configured = ci.setup(span_exporter=SPANS, log_exporter=LOGS)
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        app = FastAPI()
        app.get("/ping")(lambda: {})
        TestClient(app).get("/ping")
        report(configured=configured, missing=[m for m in ("aiokafka", "structlog", "requests")
                                               if sys.modules[m] is not None],
               httpx=HTTPXClientInstrumentor().is_instrumented_by_opentelemetry)
        """,
    )
    assert (result["configured"], result["missing"], result["httpx"]) == (True, [], True)
    assert [s["kind"] for s in result["spans"]] == ["SERVER"]
