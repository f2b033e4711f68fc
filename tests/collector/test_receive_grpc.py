"""OTLP/gRPC receiver: a real grpc server on a free loopback port over a real chDB store."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from clew.collector.app import build_pipeline
from clew.collector.limits import Limits
from clew.collector.pipeline import Pipeline
from clew.collector.receive.grpc import create_server
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore

from .fixtures import logs_request, trace_request


@pytest.fixture
def channel(pipeline: Pipeline) -> Iterator[grpc.Channel]:
    server, port = create_server(pipeline, "127.0.0.1", 0, Limits(max_body_bytes=1 << 20))
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as opened:
        yield opened
    server.stop(grace=None)


def test_traces_with_partial_success_and_gzip(
    channel: grpc.Channel, store: ChdbStore, pipeline: Pipeline
) -> None:
    stub = trace_service_pb2_grpc.TraceServiceStub(channel)
    plain = stub.Export(trace_request(), timeout=10)
    zipped = stub.Export(trace_request(), timeout=10, compression=grpc.Compression.Gzip)
    for response in (plain, zipped):
        assert response.partial_success.rejected_spans == 3
        assert "16 bytes" in response.partial_success.error_message
    pipeline.drain()
    assert store.query("SELECT count() FROM otel_traces").rows == [(14,)]


def test_logs(channel: grpc.Channel, store: ChdbStore, pipeline: Pipeline) -> None:
    response = logs_service_pb2_grpc.LogsServiceStub(channel).Export(logs_request(), timeout=10)
    assert response.partial_success.rejected_log_records == 1
    pipeline.drain()
    assert store.query("SELECT count() FROM otel_logs").rows == [(2,)]


def test_undecodable_is_invalid_argument(channel: grpc.Channel) -> None:
    export = channel.unary_unary(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        request_serializer=lambda raw: raw,
        response_deserializer=lambda raw: raw,
    )
    with pytest.raises(grpc.RpcError) as failure:
        export(b"\x0a\xff\xff\xff", timeout=10)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_metrics_are_unimplemented(channel: grpc.Channel) -> None:
    stub = metrics_service_pb2_grpc.MetricsServiceStub(channel)
    with pytest.raises(grpc.RpcError) as failure:
        stub.Export(metrics_service_pb2.ExportMetricsServiceRequest(), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_full_buffer_is_unavailable(settings: Settings, store: ChdbStore) -> None:
    tight = build_pipeline(settings.model_copy(update={"buffer_max_rows": 2}), store)
    server, port = create_server(tight, "127.0.0.1", 0, Limits(max_body_bytes=1 << 20))
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)
            with pytest.raises(grpc.RpcError) as failure:
                stub.Export(trace_request(), timeout=10)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=None)
