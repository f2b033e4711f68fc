"""The explainer over spans and logs that real instrumentation made and a real collector stored.

Two FastAPI services on real uvicorn servers, instrumented by the contrib FastAPI, httpx and
sqlite3 instrumentations and the contrib logging handler, export with the SDK's OTLP/HTTP
exporters to a real `clew serve`; once it has stopped, diagnose() reads its chDB folder.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clew.collector.store import ChdbStore
from clew.query_ui.explain import diagnose
from tests.query_ui.server import serve
from tests.support.clew_server import ClewServer


@dataclass
class Telemetry:
    """One service's providers, exporting to clew serve and remembering finished spans."""

    tracer_provider: TracerProvider
    logger_provider: LoggerProvider
    finished: InMemorySpanExporter
    logger: logging.Logger

    @classmethod
    def of(cls, service: str, server: ClewServer) -> Telemetry:
        resource = Resource.create({"service.name": service})
        finished = InMemorySpanExporter()
        tracer_provider = TracerProvider(resource=resource)
        # The OTLP export runs first, so a span in `finished` has reached clew serve.
        spans = OTLPSpanExporter(endpoint=f"{server.http_url}/v1/traces")
        tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        tracer_provider.add_span_processor(SimpleSpanProcessor(finished))
        logger_provider = LoggerProvider(resource=resource)
        logs = OTLPLogExporter(endpoint=f"{server.http_url}/v1/logs")
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        logger = logging.getLogger(f"tests.explain.{service}")
        logger.propagate = False
        logger.addHandler(LoggingHandler(logger_provider=logger_provider))
        return cls(tracer_provider, logger_provider, finished, logger)

    def wait_for_span(self, name: str) -> None:
        for _ in range(500):
            if any(s.name == name for s in self.finished.get_finished_spans()):
                return
            threading.Event().wait(0.02)
        raise AssertionError(f"span {name!r} never ended")

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()


def _tag(order_id: str) -> None:
    trace.get_current_span().set_attribute("order.id", order_id)


def payments_app(telemetry: Telemetry, release: threading.Event) -> FastAPI:
    """Records payments in sqlite: a second payment of an order breaks the primary key."""
    app = FastAPI()
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE payments (order_id TEXT PRIMARY KEY)")
    db.execute("CREATE TABLE stock (sku TEXT, qty INTEGER)")
    db.create_function("wait_for_lock", 0, lambda: release.wait(30))
    traced = SQLite3Instrumentor.instrument_connection(
        db, tracer_provider=telemetry.tracer_provider
    )

    @app.post("/pay/{order_id}")
    def pay(order_id: str) -> dict[str, str]:
        _tag(order_id)
        try:
            traced.cursor().execute("INSERT INTO payments (order_id) VALUES (?)", ("dup",))
        except sqlite3.IntegrityError:
            telemetry.logger.exception("could not record the payment", extra={"order.id": order_id})
            raise
        return {"paid": order_id}

    @app.get("/stock/{order_id}")
    def stock(order_id: str) -> dict[str, int]:
        _tag(order_id)
        # The lock is held until the test releases it: a query still running when the caller
        # gives up, on any machine speed.
        traced.cursor().execute("SELECT qty FROM stock WHERE wait_for_lock()").fetchall()
        return {"qty": 0}

    db.execute("INSERT INTO payments (order_id) VALUES ('dup')")
    db.execute("INSERT INTO stock (sku, qty) VALUES ('sku-1', 3)")
    FastAPIInstrumentor.instrument_app(app, tracer_provider=telemetry.tracer_provider)
    return app


CALL_TIMEOUT = 3.0


def checkout_app(telemetry: Telemetry, payments_url: str) -> FastAPI:
    """Calls payments for the charge and for the stock, with a timeout."""
    app = FastAPI()

    async def call(method: str, path: str) -> httpx.Response:
        # Long enough for a quick call on a loaded machine (CI saw 0.3 s expire on real-1);
        # real-2's stock query holds its lock until the test releases it, so it times out.
        async with httpx.AsyncClient(base_url=payments_url, timeout=CALL_TIMEOUT) as client:
            HTTPXClientInstrumentor.instrument_client(client, telemetry.tracer_provider)
            return await client.request(method, path)

    @app.post("/checkout/{order_id}")
    async def checkout(order_id: str) -> Any:
        _tag(order_id)
        try:
            (await call("GET", f"/stock/{order_id}")).raise_for_status()
        except httpx.TimeoutException:
            return JSONResponse({"error": "stock timed out"}, status_code=504)
        paid = await call("POST", f"/pay/{order_id}")
        paid.raise_for_status()
        return {"order": order_id}

    FastAPIInstrumentor.instrument_app(app, tracer_provider=telemetry.tracer_provider)
    return app


@dataclass
class Stored:
    """What the two services answered, and the stopped collector's store."""

    responses: dict[str, int]
    store: ChdbStore


def _run_orders(checkout_url: str, release: threading.Event, payments: Telemetry) -> dict[str, int]:
    # real-1: the stock query is quick, the payment breaks the primary key.
    release.set()
    first = httpx.post(f"{checkout_url}/checkout/real-1", timeout=10).status_code
    # real-2: the stock query holds its lock until checkout has given up.
    release.clear()
    second = httpx.post(f"{checkout_url}/checkout/real-2", timeout=10).status_code
    release.set()
    payments.wait_for_span("GET /stock/{order_id}")
    return {"real-1": first, "real-2": second}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    server = ClewServer(tmp_path_factory.mktemp("serve") / "clew-data")
    server.start()
    payments, checkout = Telemetry.of("payments", server), Telemetry.of("checkout", server)
    release = threading.Event()
    try:
        with (
            serve(payments_app(payments, release)) as payments_url,
            serve(checkout_app(checkout, payments_url)) as checkout_url,
        ):
            responses = _run_orders(checkout_url, release, payments)
    finally:
        release.set()
        payments.shutdown()
        checkout.shutdown()
        server.stop()
    store = ChdbStore(server.data_dir)
    yield Stored(responses, store)
    store.close()


def test_a_database_error_two_services_down(stored: Stored) -> None:
    assert stored.responses["real-1"] == 500
    data = diagnose(stored.store, "order.id", "real-1").to_dict()
    assert data["status"] == "failed"
    cause = data["root_causes"][0]
    assert (cause["service"], cause["error_type"]) == ("payments", "sqlite3.IntegrityError")
    kinds = {e["kind"]: e for e in cause["evidence"]}
    assert kinds["db.statement"]["statement"] == "INSERT INTO payments (order_id) VALUES (?)"
    assert "could not record the payment" in orjson.dumps(cause["evidence"]).decode()
    assert len(data["root_causes"]) == 1
    assert {c["service"] for c in data["cascade"]} == {"payments", "checkout"}


def test_a_timeout_masking_a_slow_real_query(stored: Stored) -> None:
    assert stored.responses["real-2"] == 504
    data = diagnose(stored.store, "order.id", "real-2").to_dict()
    cause = data["root_causes"][0]
    assert (cause["service"], cause["error_type"]) == ("payments", "SlowCall")
    kinds = {e["kind"]: e for e in cause["evidence"]}
    assert kinds["db.statement"]["statement"] == "SELECT qty FROM stock WHERE wait_for_lock()"
    assert len(data["root_causes"]) == 1
    assert [c["span_name"] for c in data["cascade"] if "timed out" in c["reason"]] == ["GET"]
