"""The spool behind the real receivers: spool_full answers 503, a restart replays the spool."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clew.collector.app import build_pipeline
from clew.collector.limits import Limits
from clew.collector.metrics import Metrics
from clew.collector.receive.http import create_app
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore

from .fixtures import trace_request

PB = {"Content-Type": "application/x-protobuf"}
MIB = 1024 * 1024


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    return float(metrics.registry.get_sample_value(name, labels) or 0.0)


def test_full_spool_is_503_spool_full_and_logged(
    settings: Settings, store: ChdbStore, caplog: pytest.LogCaptureFixture
) -> None:
    tight = build_pipeline(settings.model_copy(update={"spool_max_bytes": MIB}), store)
    client = TestClient(create_app(tight, Limits(max_body_bytes=4 * MIB)))
    body = trace_request().SerializeToString()
    statuses = []
    with caplog.at_level(logging.WARNING, logger="clew.collector.pipeline"):
        for _ in range(MIB // len(body) + 2):  # the writer is not started: nothing leaves
            statuses.append(client.post("/v1/traces", content=body, headers=PB).status_code)
    refused = statuses.count(503)
    assert statuses[0] == 200 and refused >= 1
    assert _sample(tight.metrics, "clew_refused_total", signal="spans", reason="spool_full") == (
        7 * refused
    )
    assert any(
        "event=refused" in r.message and "reason=spool_full" in r.message for r in caplog.records
    )
    tight.drain()


def test_spooled_requests_are_written_after_a_restart(settings: Settings, store: ChdbStore) -> None:
    first = build_pipeline(settings, store)  # never started: as if killed before writing
    client = TestClient(create_app(first, Limits(max_body_bytes=4 * MIB)))
    for _ in range(3):
        assert (
            client.post(
                "/v1/traces", content=trace_request().SerializeToString(), headers=PB
            ).status_code
            == 200
        )
    for batcher in first.batchers.values():
        batcher.spool.close()  # the process ends; the records are on disk
    assert store.query("SELECT count() FROM otel_traces").rows == [(0,)]
    second = build_pipeline(settings, store)
    assert second.batchers["spans"].depth == 21
    second.start()
    second.drain()
    assert store.query("SELECT count() FROM otel_traces").rows == [(21,)]
    assert _sample(second.metrics, "clew_replayed_total", signal="spans") == 21
    second.update_gauges()
    assert _sample(second.metrics, "clew_buffer_rows", signal="spans") == 0
    assert Path(settings.data_dir / "spool" / "spans").is_dir()
