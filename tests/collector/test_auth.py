"""Bearer tokens on the OTLP receivers: the shared check, HTTP through TestClient, real gRPC."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from clew.collector.limits import Limits
from clew.collector.pipeline import Pipeline
from clew.collector.receive.grpc import create_server
from clew.collector.receive.http import create_app
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.common.auth import RefusalLog, TokenCheck, bearer
from clew.common.tls import TLSConfigError, server_tls

from .fixtures import logs_request, trace_request

TOKEN = "s3cret-ingest-token"
PB = {"Content-Type": "application/x-protobuf"}


def refused(pipeline: Pipeline, signal: str) -> float:
    """clew_refused_requests_total{signal, reason="unauthenticated"}."""
    counter = pipeline.metrics.refused_requests.labels(signal, "unauthenticated")
    return float(counter._value.get())


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc ", "abc"),
        ("BEARER abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_header_parsing(header: str | None, token: str | None) -> None:
    assert bearer(header) == token


def test_token_check() -> None:
    check = TokenCheck(TOKEN)
    assert check.enabled and check.header_ok(f"Bearer {TOKEN}")
    for wrong in (
        None,
        "",
        "Bearer ",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
    ):
        assert not check.header_ok(wrong), wrong
    assert not check.token_ok("") and not check.token_ok(None)
    open_check = TokenCheck(None)
    assert not open_check.enabled and open_check.header_ok(None)
    assert TokenCheck("").enabled is False  # an empty variable means no token, not "any token"
    assert check.sign("a") != TokenCheck("other").sign("a")


@pytest.fixture
def client(pipeline: Pipeline) -> TestClient:
    return TestClient(create_app(pipeline, Limits(max_body_bytes=64 * 1024), TokenCheck(TOKEN)))


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}"])
def test_http_without_the_token_is_401_with_an_otlp_status(
    client: TestClient, pipeline: Pipeline, store: ChdbStore, header: str | None
) -> None:
    headers = PB | ({"Authorization": header} if header else {})
    before = refused(pipeline, "spans")
    response = client.post(
        "/v1/traces", content=trace_request().SerializeToString(), headers=headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="clew"'
    assert "retry-after" not in response.headers  # a wrong token does not get better with time
    status = Status.FromString(response.content)
    assert status.code == 16 and "bearer token" in status.message
    assert refused(pipeline, "spans") == before + 1
    pipeline.drain()
    assert store.query("SELECT count() FROM otel_traces").rows == [(0,)]


def test_http_with_the_token_is_stored_and_json_gets_a_json_401(
    client: TestClient, pipeline: Pipeline, store: ChdbStore
) -> None:
    body = trace_request().SerializeToString()
    ok = client.post("/v1/traces", content=body, headers=PB | {"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    refused_json = client.post(
        "/v1/logs", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert refused_json.status_code == 401 and refused_json.json()["code"] == 16
    assert refused(pipeline, "logs") == 1
    pipeline.drain()
    assert store.query("SELECT count() FROM otel_traces").rows == [(7,)]


def test_healthz_is_open_and_metrics_need_the_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200 and "clew_refused_requests_total" in scraped.text


@pytest.fixture
def channel(pipeline: Pipeline) -> Iterator[grpc.Channel]:
    server, port = create_server(pipeline, "127.0.0.1", 0, token=TokenCheck(TOKEN))
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as opened:
        yield opened
    server.stop(grace=None)


def test_grpc_without_the_token_is_unauthenticated(
    channel: grpc.Channel, pipeline: Pipeline, store: ChdbStore
) -> None:
    traces = trace_service_pb2_grpc.TraceServiceStub(channel)
    logs = logs_service_pb2_grpc.LogsServiceStub(channel)
    for metadata in [(), (("authorization", "Bearer nope"),)]:
        with pytest.raises(grpc.RpcError) as failure:
            traces.Export(trace_request(), timeout=10, metadata=metadata)
        assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as failure:
        logs.Export(logs_request(), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert (refused(pipeline, "spans"), refused(pipeline, "logs")) == (2, 1)
    accepted = traces.Export(
        trace_request(), timeout=10, metadata=(("authorization", f"Bearer {TOKEN}"),)
    )
    assert accepted.partial_success.rejected_spans == 3
    pipeline.drain()
    assert store.query("SELECT count() FROM otel_traces").rows == [(7,)]


def test_tls_settings_are_both_or_neither(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("cert")
    key.write_text("key")
    assert server_tls(Settings(data_dir=tmp_path)) is None
    both = server_tls(Settings(data_dir=tmp_path, tls_cert_file=cert, tls_key_file=key))
    assert both is not None and both.pair() == (b"key", b"cert")
    with pytest.raises(TLSConfigError, match="both CLEW_TLS_CERT_FILE and CLEW_TLS_KEY_FILE"):
        server_tls(Settings(data_dir=tmp_path, tls_cert_file=cert))
    with pytest.raises(TLSConfigError, match="does not exist"):
        server_tls(Settings(data_dir=tmp_path, tls_cert_file=cert, tls_key_file=tmp_path / "no"))


def test_refusals_are_logged_at_most_once_an_interval(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = trace_request().SerializeToString()
    with caplog.at_level(logging.WARNING, logger="clew.collector.receive"):
        for _ in range(3):
            assert client.post("/v1/traces", content=body, headers=PB).status_code == 401
    lines = [r for r in caplog.records if r.name == "clew.collector.receive"]
    assert [r.getMessage() for r in lines] == [
        "refused 1 request(s) without a valid ingest token (last from testclient)"
    ]
    assert lines[0].__dict__["event"] == "unauthenticated"


def test_refusal_log_counts_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    refusals = RefusalLog(logging.getLogger("clew.test"), "ingest", interval=0.0)
    held = RefusalLog(logging.getLogger("clew.test"), "ingest", interval=3600.0)
    with caplog.at_level(logging.WARNING, logger="clew.test"):
        refusals.refused("a")
        refusals.refused("b")
        for peer in ("c", "d", "e"):
            held.refused(peer)
        held._interval = 0.0  # the interval has passed: the next line counts d, e and f
        held.refused("f")
    assert [r.__dict__["refused"] for r in caplog.records] == [1, 1, 1, 3]
    assert [r.__dict__["peer"] for r in caplog.records] == ["a", "b", "c", "f"]
