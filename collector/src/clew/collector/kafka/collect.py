"""`clew collect --kafka`: the OTLP receivers, publishing to Kafka; no store in this process."""

from __future__ import annotations

import asyncio
import logging

import grpc
import uvloop

from clew.collector.app import _serve_http, _uvicorn
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.kafka.publish import KafkaPipeline, Publisher
from clew.collector.metrics import Metrics
from clew.collector.receive import grpc as grpc_receiver
from clew.collector.receive import http as http_receiver
from clew.collector.settings import Settings

log = logging.getLogger("clew.collector.kafka")


def collect(settings: Settings, bootstrap: str, kafka: KafkaSettings) -> None:
    """Receive until SIGINT/SIGTERM, publishing each accepted request; then flush and stop."""
    pipeline = KafkaPipeline(Publisher(bootstrap, kafka), Metrics())
    pipeline.start()
    grpc_server: grpc.Server | None = None
    try:
        grpc_server, _ = grpc_receiver.create_server(
            pipeline, settings.host, settings.otlp_grpc_port, settings.max_body_bytes
        )
        grpc_server.start()
        receiver = http_receiver.create_app(pipeline, settings.max_body_bytes)
        server = _uvicorn(receiver, settings.host, settings.otlp_http_port)
        log.info(
            "clew collecting: OTLP/HTTP %s:%d, OTLP/gRPC %s:%d, publishing to Kafka %s",
            settings.host,
            settings.otlp_http_port,
            settings.host,
            settings.otlp_grpc_port,
            bootstrap,
        )
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve_http([server]))
    finally:
        if grpc_server is not None:
            grpc_server.stop(grace=5).wait()
        pipeline.drain()
        log.info("clew collect stopped")
