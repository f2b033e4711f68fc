"""`clew collect --kafka`: the OTLP receivers, publishing to Kafka; no store in this process."""

from __future__ import annotations

import logging

from clew.collector.app import run_receivers
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.kafka.publish import KafkaPipeline, Publisher
from clew.collector.metrics import Metrics
from clew.collector.settings import Settings

log = logging.getLogger("clew.collector.kafka")


def collect(settings: Settings, bootstrap: str, kafka: KafkaSettings) -> None:
    """Receive until SIGINT/SIGTERM, publishing each accepted request; then flush and stop."""
    pipeline = KafkaPipeline(Publisher(bootstrap, kafka), Metrics())
    run_receivers(settings, pipeline, ui=None, destination=f"publishing to Kafka {bootstrap}")
    log.info("clew collect stopped")
