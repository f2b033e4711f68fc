"""Wiring: settings → store → writers → batchers → pipeline → receivers; and serving them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

import grpc
import uvicorn
import uvloop
from fastapi import FastAPI

from clew.collector.batch import Batcher
from clew.collector.limits import Limits
from clew.collector.metrics import SIGNALS, Metrics
from clew.collector.pipeline import Pipeline, SpoolPipeline
from clew.collector.receive import grpc as grpc_receiver
from clew.collector.receive import http as http_receiver
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.spool import Spool
from clew.collector.store import Store, open_store
from clew.collector.write import Writer, until
from clew.common.auth import TokenCheck
from clew.common.runtime import release_start_up_pages, tune_gc
from clew.common.tls import ServerTLS, server_tls

log = logging.getLogger("clew.collector")


def build_pipeline(
    settings: Settings, store: Store, metrics: Metrics | None = None
) -> SpoolPipeline:
    """Spools, writers and batchers for both signals over one store (not started)."""
    metrics = metrics or Metrics()
    spool_dir = settings.spool_dir or settings.data_dir / "spool"
    batchers = {}
    for name in SIGNALS:
        stopping = threading.Event()  # set by drain(): a failing store is not retried forever
        spool = Spool(
            spool_dir / name,
            max_bytes=settings.spool_max_bytes,
            max_weight=settings.buffer_max_rows,
            fsync=settings.spool_fsync == "always",
        )
        for reason in ("spool_full", "shutting_down"):
            metrics.refused.labels(name, reason)  # present at 0 from the start
        metrics.dropped.labels(name, "store_rejected")
        batchers[name] = Batcher(
            spool,
            Writer(store, name, metrics, wait=until(stopping)),
            max_rows=settings.batch_max_rows,
            max_age=settings.batch_max_age,
            name=name,
            replayed=metrics.replayed.labels(name).inc,
            stopping=stopping,
        )
    return SpoolPipeline(batchers, metrics)


def load_ui(settings: Settings, store: Store) -> FastAPI | None:
    """The query UI's app from the `clew.ui` entry point `app`, when clew-query-ui is installed."""
    for point in entry_points(group="clew.ui", name="app"):
        create_app: Any = point.load()
        app: FastAPI = create_app(settings, store)
        return app
    return None


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to serve() (several share one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_server(app: FastAPI, host: str, port: int, tls: ServerTLS | None = None) -> _Server:
    # httptools: uvicorn's C HTTP parser; measured, the pure-Python one cost more per request
    # than decoding it (docs/adr/0001).
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http="httptools",
        ssl_certfile=tls.cert_file if tls else None,
        ssl_keyfile=tls.key_file if tls else None,
    )
    return _Server(config)


async def _serve_http(servers: list[_Server]) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    await asyncio.gather(*(server.serve() for server in servers))


def serve(settings: Settings) -> None:
    """Run `clew serve` until SIGINT/SIGTERM, then stop receiving, drain the buffer, close."""
    store = open_store(settings)
    try:
        apply_schema(store, settings)
        pipeline = build_pipeline(settings, store)
        ui = load_ui(settings, store)
        run_receivers(settings, pipeline, ui=ui, destination=f"data in {settings.data_dir}")
    finally:
        store.close()
        log.info("clew stopped: buffer drained, store closed")


def run_receivers(
    settings: Settings, pipeline: Pipeline, *, ui: FastAPI | None, destination: str
) -> None:
    """Start `pipeline`, serve OTLP/HTTP, OTLP/gRPC and `ui` until SIGINT/SIGTERM, then drain.

    `clew serve` (pipeline → local store) and `clew collect --kafka` (pipeline → Kafka) both
    run their receivers here.
    """
    limits = Limits.from_settings(settings)
    token = TokenCheck(settings.ingest_token)
    tls = server_tls(settings)  # before starting anything: a bad setting stops here
    pipeline.start()
    grpc_server: grpc.Server | None = None
    try:
        grpc_server, _ = grpc_receiver.create_server(
            pipeline,
            settings.host,
            settings.otlp_grpc_port,
            limits,
            token=token,
            tls=tls.pair() if tls else None,
        )
        grpc_server.start()
        receiver = http_receiver.create_app(pipeline, limits, token)
        servers = [uvicorn_server(receiver, settings.host, settings.otlp_http_port, tls)]
        if ui is not None:
            servers.append(uvicorn_server(ui, settings.host, settings.ui_port, tls))
        log.info(
            "clew receiving: OTLP/HTTP%s %s:%d, OTLP/gRPC %s:%d, %s; ingest token %s",
            " over TLS" if tls else "",
            settings.host,
            settings.otlp_http_port,
            settings.host,
            settings.otlp_grpc_port,
            destination,
            "required" if token.enabled else "not set",
        )
        tune_gc()
        released = release_start_up_pages()
        log.info("event=start_up_pages_released mib=%d", released >> 20)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve_http(servers))
    finally:
        if grpc_server is not None:
            grpc_server.stop(grace=5).wait()
        pipeline.drain()
