"""Wiring: settings → store → writers → batchers → pipeline → receivers; and serving them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
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
from clew.collector.pipeline import Pipeline
from clew.collector.receive import grpc as grpc_receiver
from clew.collector.receive import http as http_receiver
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import Store, open_store
from clew.collector.write import Writer

log = logging.getLogger("clew.collector")


def build_pipeline(settings: Settings, store: Store, metrics: Metrics | None = None) -> Pipeline:
    """Writers and batchers for both signals over one store (not started)."""
    metrics = metrics or Metrics()
    batchers = {
        signal: Batcher(
            Writer(store, signal, metrics),
            max_rows=settings.batch_max_rows,
            max_age=settings.batch_max_age,
            max_buffer=settings.buffer_max_rows,
            name=f"clew-batch-{signal}",
        )
        for signal in SIGNALS
    }
    return Pipeline(batchers, metrics)


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


def _uvicorn(app: FastAPI, host: str, port: int) -> _Server:
    # httptools: uvicorn's C HTTP parser; measured, the pure-Python one cost more per request
    # than decoding it (docs/adr/0001).
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", http="httptools"
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
    pipeline.start()
    grpc_server: grpc.Server | None = None
    try:
        grpc_server, _ = grpc_receiver.create_server(
            pipeline, settings.host, settings.otlp_grpc_port, limits
        )
        grpc_server.start()
        receiver = http_receiver.create_app(pipeline, limits)
        servers = [_uvicorn(receiver, settings.host, settings.otlp_http_port)]
        if ui is not None:
            servers.append(_uvicorn(ui, settings.host, settings.ui_port))
        log.info(
            "clew receiving: OTLP/HTTP %s:%d, OTLP/gRPC %s:%d, %s",
            settings.host,
            settings.otlp_http_port,
            settings.host,
            settings.otlp_grpc_port,
            destination,
        )
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve_http(servers))
    finally:
        if grpc_server is not None:
            grpc_server.stop(grace=5).wait()
        pipeline.drain()
