"""`clew collect` and `clew write`: the Kafka-buffered ingestion (added by entry point)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from clew.collector.cli import startup_errors
from clew.collector.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _settings(**given: Any) -> Settings:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("clew.collector.kafka").setLevel(logging.DEBUG)
    return Settings(**{key: value for key, value in given.items() if value is not None})


@click.command()
@click.option("--kafka", "bootstrap", required=True, help="Kafka bootstrap servers.")
@click.option("--host", help="Address to listen on [CLEW_HOST, default 127.0.0.1].")
@click.option("--http-port", type=int, help="OTLP/HTTP port [CLEW_OTLP_HTTP_PORT, 4318].")
@click.option("--grpc-port", type=int, help="OTLP/gRPC port [CLEW_OTLP_GRPC_PORT, 4317].")
def collect(bootstrap: str, host: str | None, http_port: int | None, grpc_port: int | None) -> None:
    """Receive OTLP and publish each accepted request to Kafka (topics: CLEW_KAFKA_*_TOPIC)."""
    from clew.collector.kafka.collect import collect as run
    from clew.collector.kafka.messages import KafkaSettings

    with startup_errors():
        settings = _settings(host=host, otlp_http_port=http_port, otlp_grpc_port=grpc_port)
        run(settings, bootstrap, KafkaSettings())


@click.command()
@click.option("--kafka", "bootstrap", required=True, help="Kafka bootstrap servers.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder [CLEW_DATA_DIR].")
@click.option(
    "--metrics-port", type=int, help="Serve /metrics on this port [CLEW_WRITE_METRICS_PORT]."
)
def write(bootstrap: str, data_dir: Path | None, metrics_port: int | None) -> None:
    """Consume the OTLP topics as group CLEW_KAFKA_GROUP and store them; commit after insert."""
    from clew.collector.kafka.consume import write as run
    from clew.collector.kafka.messages import KafkaSettings

    with startup_errors():
        settings = _settings(data_dir=data_dir, write_metrics_port=metrics_port)
        run(settings, bootstrap, KafkaSettings())
