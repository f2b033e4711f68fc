"""Kafka ingest benchmark: receiver → Kafka → writer(s) → embedded store, with 1 and 2 writers.

    uv run python bench/kafka_ingest.py --requests 400 --spans-per-request 100

Real processes: scripts/kafka-broker, `clew collect --kafka`, `clew write --kafka` (each writer
on its own data folder). Prints spans/s from the first request sent until the writer group has
committed every message (so every span is in a store).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.collector.kafka.processes import Receiver, Writer, wait_balanced, wait_consumed
from tests.integration.test_kafka_ingest import trace_request
from tests.support.kafka import KafkaBroker, unique_topic_name


def send(url: str, requests: int, spans: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(requests):
            body = trace_request([os.urandom(8) for _ in range(spans)])
            headers = {"content-type": "application/x-protobuf"}
            assert client.post("/v1/traces", content=body, headers=headers).status_code == 200


def run(broker: KafkaBroker, root: Path, writers: int, requests: int, spans: int) -> float:
    """Spans/s through the whole path with `writers` writers on a two-partition topic."""
    env = {
        "CLEW_KAFKA_SPANS_TOPIC": unique_topic_name("bench-spans"),
        "CLEW_KAFKA_LOGS_TOPIC": unique_topic_name("bench-logs"),
        "CLEW_KAFKA_GROUP": unique_topic_name("bench-writers"),
    }
    for topic in (env["CLEW_KAFKA_SPANS_TOPIC"], env["CLEW_KAFKA_LOGS_TOPIC"]):
        broker.create_topic(topic, 2)
    receiver = Receiver(broker.bootstrap, env, root / f"collect-{writers}.log")
    group = [
        Writer(
            broker.bootstrap, root / f"data-{writers}-{n}", env, root / f"write-{writers}-{n}.log"
        )
        for n in range(writers)
    ]
    for process in [receiver, *group]:
        process.start()
    try:
        wait_balanced(group, 4 // writers)
        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: send(receiver.url, requests // 4, spans), range(4)))
        wait_consumed(
            broker.bootstrap, env["CLEW_KAFKA_GROUP"], env["CLEW_KAFKA_SPANS_TOPIC"], 2, group
        )
        elapsed = time.perf_counter() - start
    finally:
        for process in [receiver, *group]:
            process.stop()
    return requests // 4 * 4 * spans / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--spans-per-request", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clew-bench-kafka-") as tmp:
        root = Path(tmp)
        broker = KafkaBroker(root / "kafka")
        broker.start()
        try:
            for writers in (1, 2):
                rate = run(broker, root, writers, args.requests, args.spans_per_request)
                print(
                    f"{writers} writer(s): {rate:,.0f} spans/s "
                    f"({args.requests} requests x {args.spans_per_request} spans)"
                )
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
