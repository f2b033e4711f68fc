"""The explainer over spans and logs that real instrumentation made.

Two FastAPI services on real uvicorn servers, instrumented by the contrib FastAPI, httpx and
sqlite3 instrumentations and the SDK's logging handler; their spans and logs go through the
collector's OTLP decoding into chDB, and diagnose() reads them back from there.
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
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clew.collector import decode
from clew.collector.store import ChdbStore
from clew.query_ui.explain import diagnose
from tests.query_ui.server import serve


@dataclass
class Telemetry:
    """One service's providers and the in-memory exporters behind them."""

    tracer_provider: TracerProvider
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter
    logger: logging.Logger

    @classmethod
    def of(cls, service: str) -> Telemetry:
        resource = Resource.create({"service.name": service})
        spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        logger = logging.getLogger(f"tests.explain.{service}")
        logger.propagate = False
        logger.addHandler(LoggingHandler(logger_provider=logger_provider))
        return cls(tracer_provider, spans, logs, logger)

    def flush_into(self, store: ChdbStore) -> None:
        """Encode as OTLP, decode with the collector, insert into its ingest tables."""
        span_rows = decode.trace_request(encode_spans(self.spans.get_finished_spans())).rows
        store.insert("clew_ingest_spans", orjson.dumps(span_rows).decode())
        log_rows = decode.logs_request(encode_logs(self.logs.get_finished_logs())).rows
        if log_rows:
            store.insert("clew_ingest_logs", orjson.dumps(log_rows).decode())
        self.spans.clear()
        self.logs.clear()


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


def checkout_app(telemetry: Telemetry, payments_url: list[str]) -> FastAPI:
    """Calls payments for the charge and for the stock, with a short timeout."""
    app = FastAPI()

    async def call(method: str, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=payments_url[0], timeout=0.3) as client:
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
class Shop:
    checkout_url: str
    release: threading.Event
    services: tuple[Telemetry, Telemetry]

    def flush_into(self, store: ChdbStore) -> None:
        for telemetry in self.services:
            telemetry.flush_into(store)


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    payments, checkout = Telemetry.of("payments"), Telemetry.of("checkout")
    release = threading.Event()
    payments_url: list[str] = []
    with serve(payments_app(payments, release)) as url:
        payments_url.append(url)
        with serve(checkout_app(checkout, payments_url)) as checkout_url:
            yield Shop(checkout_url, release, (payments, checkout))
        release.set()


def _wait_for_span(telemetry: Telemetry, name: str) -> None:
    for _ in range(500):
        if any(s.name == name for s in telemetry.spans.get_finished_spans()):
            return
        threading.Event().wait(0.02)
    raise AssertionError(f"span {name!r} never ended")


def test_a_database_error_two_services_down(shop: Shop, store: ChdbStore) -> None:
    shop.release.set()
    response = httpx.post(f"{shop.checkout_url}/checkout/real-1", timeout=10)
    assert response.status_code == 500
    shop.flush_into(store)
    data = diagnose(store, "order.id", "real-1").to_dict()
    assert data["status"] == "failed"
    cause = data["root_causes"][0]
    assert (cause["service"], cause["error_type"]) == ("payments", "sqlite3.IntegrityError")
    kinds = {e["kind"]: e for e in cause["evidence"]}
    assert kinds["db.statement"]["statement"] == "INSERT INTO payments (order_id) VALUES (?)"
    assert "could not record the payment" in orjson.dumps(cause["evidence"]).decode()
    assert len(data["root_causes"]) == 1
    assert {c["service"] for c in data["cascade"]} == {"payments", "checkout"}


def test_a_timeout_masking_a_slow_real_query(shop: Shop, store: ChdbStore) -> None:
    shop.release.clear()
    response = httpx.post(f"{shop.checkout_url}/checkout/real-2", timeout=10)
    assert response.status_code == 504
    shop.release.set()
    _wait_for_span(shop.services[0], "GET /stock/{order_id}")
    shop.flush_into(store)
    data = diagnose(store, "order.id", "real-2").to_dict()
    cause = data["root_causes"][0]
    assert (cause["service"], cause["error_type"]) == ("payments", "SlowCall")
    kinds = {e["kind"]: e for e in cause["evidence"]}
    assert kinds["db.statement"]["statement"] == "SELECT qty FROM stock WHERE wait_for_lock()"
    assert len(data["root_causes"]) == 1
