"""OTLP/HTTP receiver through FastAPI's TestClient over a real chDB store."""

from __future__ import annotations

import gzip
import json

import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from clew.collector.app import build_pipeline
from clew.collector.limits import Limits
from clew.collector.pipeline import Pipeline
from clew.collector.receive.http import create_app
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore

from .fixtures import FIXTURES, logs_request, trace_request

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}


@pytest.fixture
def client(pipeline: Pipeline) -> TestClient:
    return TestClient(create_app(pipeline, Limits(max_body_bytes=64 * 1024)))


def _count(store: ChdbStore, pipeline: Pipeline, table: str) -> int:
    pipeline.drain()
    return int(store.query(f"SELECT count() FROM {table}").rows[0][0])  # noqa: S608 - fixed names


def test_protobuf_traces_with_partial_success(
    client: TestClient, store: ChdbStore, pipeline: Pipeline
) -> None:
    response = client.post("/v1/traces", content=trace_request().SerializeToString(), headers=PB)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    body = ExportTraceServiceResponse.FromString(response.content)
    assert body.partial_success.rejected_spans == 3
    assert "trace_id must be 16 bytes" in body.partial_success.error_message
    assert _count(store, pipeline, "otel_traces") == 7


def test_json_logs_answer_in_json(client: TestClient, store: ChdbStore, pipeline: Pipeline) -> None:
    response = client.post("/v1/logs", content=(FIXTURES / "logs.json").read_bytes(), headers=JS)
    assert response.status_code == 200
    assert response.json() == {
        "partialSuccess": {
            "rejectedLogRecords": "1",
            "errorMessage": response.json()["partialSuccess"]["errorMessage"],
        }
    }
    assert _count(store, pipeline, "otel_logs") == 2


def test_full_success_has_empty_response(client: TestClient) -> None:
    response = client.post("/v1/logs", content=b"{}", headers=JS)
    assert (response.status_code, response.json()) == (200, {})


def test_gzip_bodies(client: TestClient, store: ChdbStore, pipeline: Pipeline) -> None:
    body = gzip.compress(logs_request().SerializeToString())
    response = client.post("/v1/logs", content=body, headers={**PB, "Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert _count(store, pipeline, "otel_logs") == 2


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"\x0a\xff\xff", PB),
        (b"{not json", JS),
        (b"plain", {**PB, "Content-Encoding": "gzip"}),
        (gzip.compress(b"x" * 100)[:-8], {**PB, "Content-Encoding": "gzip"}),
    ],
    ids=["protobuf", "json", "not-gzip", "truncated-gzip"],
)
def test_undecodable_is_400_with_status(
    client: TestClient, body: bytes, headers: dict[str, str]
) -> None:
    response = client.post("/v1/traces", content=body, headers=headers)
    assert response.status_code == 400
    if headers["Content-Type"] == "application/json":
        assert response.json()["code"] == 3
    else:
        assert Status.FromString(response.content).code == 3


def test_unsupported_type_and_encoding_are_415(client: TestClient) -> None:
    assert (
        client.post("/v1/traces", content=b"x", headers={"Content-Type": "text/plain"}).status_code
        == 415
    )
    response = client.post("/v1/traces", content=b"x", headers={**PB, "Content-Encoding": "br"})
    assert response.status_code == 415


def test_too_large_is_413_before_and_after_decompression(client: TestClient) -> None:
    big = b"\x00" * (64 * 1024 + 1)
    assert client.post("/v1/traces", content=big, headers=PB).status_code == 413
    bomb = gzip.compress(big)
    assert len(bomb) < 1024
    response = client.post("/v1/traces", content=bomb, headers={**PB, "Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_other_paths_and_methods(client: TestClient) -> None:
    assert client.post("/v1/metrics", content=b"", headers=PB).status_code == 404
    assert client.get("/v1/traces").status_code == 405


def test_full_buffer_is_503_retry_after(settings: Settings, store: ChdbStore) -> None:
    tight = build_pipeline(settings.model_copy(update={"buffer_max_rows": 2}), store)  # not started
    client = TestClient(create_app(tight, Limits(max_body_bytes=1 << 20)))
    response = client.post("/v1/traces", content=trace_request().SerializeToString(), headers=PB)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert (
        tight.metrics.registry.get_sample_value(
            "clew_refused_total", {"signal": "spans", "reason": "buffer_full"}
        )
        == 7
    )


def test_bad_request_loses_nothing_else(
    client: TestClient, store: ChdbStore, pipeline: Pipeline
) -> None:
    good = trace_request().SerializeToString()
    for _ in range(3):
        assert client.post("/v1/traces", content=good, headers=PB).status_code == 200
        assert client.post("/v1/traces", content=b"\xff" * 10, headers=PB).status_code == 400
    assert _count(store, pipeline, "otel_traces") == 21


def test_healthz_and_metrics(client: TestClient, pipeline: Pipeline) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    client.post("/v1/traces", content=trace_request().SerializeToString(), headers=PB)
    pipeline.drain()
    text = client.get("/metrics").text
    for line in (
        'clew_received_total{signal="spans"} 10.0',
        'clew_rejected_total{reason="invalid_id",signal="spans"} 3.0',
        'clew_accepted_total{signal="spans"} 7.0',
        'clew_written_total{signal="spans"} 7.0',
        'clew_refused_total{reason="buffer_full",signal="logs"} 0.0',
        'clew_batch_seconds_count{signal="spans"} 1.0',
        'clew_buffer_rows{signal="spans"} 0.0',
        'clew_batch_rows_count{signal="spans"} 1.0',
    ):
        assert line in text
    assert json.loads(client.get("/healthz").content) == {"status": "ok"}
