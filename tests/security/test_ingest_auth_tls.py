"""The official OTel SDK exporters against a real `clew serve` with CLEW_INGEST_TOKEN and TLS.

Verification stays on: the exporters trust only the test CA. Without the token, with a wrong
one, or trusting another CA, nothing is stored; with both, everything is.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import grpc
import httpx
import pytest
from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clew.query_ui.cli import search
from tests.security.conftest import INGEST_TOKEN, UI_TOKEN, HardenedServer

BEARER = {"Authorization": f"Bearer {UI_TOKEN}"}


def _spans(name: str) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "auth-test"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("clew.tests").start_span(name).end()
    provider.shutdown()
    return list(memory.get_finished_spans())


def _http(server: HardenedServer, token: str | None, ca: Path) -> SpanExporter:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return HttpSpans(
        endpoint=f"{server.http_url}/v1/traces",
        headers=headers,
        certificate_file=str(ca),
        timeout=5,
    )


def _grpc(server: HardenedServer, token: str | None, ca: Path) -> SpanExporter:
    headers = {"authorization": f"Bearer {token}"} if token else None
    return GrpcSpans(
        endpoint=server.grpc_target,
        headers=headers,
        credentials=grpc.ssl_channel_credentials(ca.read_bytes()),
        timeout=5,
    )


def _export(exporter: SpanExporter, name: str) -> SpanExportResult:
    try:
        return exporter.export(_spans(name))
    finally:
        exporter.shutdown()


def test_sdk_exporters_need_the_token_and_trust_the_certificate(
    hardened_server: HardenedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests lets these variables win over a session's own CA file (its issue 3829), which
    # would make the exporter's certificate_file a no-op here.
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    server, ca, run = hardened_server, hardened_server.certs.ca, uuid.uuid4().hex[:8]
    wrong_ca = server.certs.other_ca
    for make in (_http, _grpc):
        kind = make.__name__.strip("_")
        assert _export(make(server, None, ca), f"none-{kind}-{run}") == SpanExportResult.FAILURE
        assert _export(make(server, "wrong", ca), f"wrong-{kind}-{run}") == SpanExportResult.FAILURE
        # Verification on: an exporter trusting another CA does not send (or is not accepted).
        refused = _export(make(server, INGEST_TOKEN, wrong_ca), f"untrusted-{kind}-{run}")
        assert refused == SpanExportResult.FAILURE
        sent = _export(make(server, INGEST_TOKEN, ca), f"ok-{kind}-{run}")
        assert sent == SpanExportResult.SUCCESS
    metrics = _metrics(server)
    assert 'clew_refused_requests_total{reason="unauthenticated",signal="spans"} 4.0' in metrics
    server.stop()
    try:
        names = {row["SpanName"] for row in server.query("SELECT SpanName FROM otel_traces")}
    finally:
        server.start()  # the module's other tests use it
    assert {n for n in names if n.endswith(run)} == {f"ok-http-{run}", f"ok-grpc-{run}"}


def _metrics(server: HardenedServer) -> str:
    context = ssl.create_default_context(cafile=str(server.certs.ca))
    url = f"{server.http_url}/metrics"
    try:
        urllib.request.urlopen(url, timeout=5, context=context)
        raise AssertionError("/metrics answered without the token")
    except urllib.error.HTTPError as refused:
        assert refused.code == 401
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {INGEST_TOKEN}"})
    with urllib.request.urlopen(request, timeout=5, context=context) as response:
        return str(response.read().decode())


def test_plain_text_is_not_answered_on_the_tls_ports(hardened_server: HardenedServer) -> None:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{hardened_server.http_port}/healthz", timeout=5)
        raise AssertionError("the HTTP receiver answered plain text")
    except (urllib.error.URLError, ConnectionError) as failure:
        assert not isinstance(failure, urllib.error.HTTPError) or failure.code >= 400
    with grpc.insecure_channel(hardened_server.grpc_target) as channel:
        stub = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        try:
            stub(b"", timeout=5)
            raise AssertionError("the gRPC receiver answered plain text")
        except grpc.RpcError as failure:
            assert failure.code() == grpc.StatusCode.UNAVAILABLE


def test_the_ui_over_tls_needs_its_token(hardened_server: HardenedServer) -> None:
    ca = ssl.create_default_context(cafile=str(hardened_server.certs.ca))
    with httpx.Client(base_url=hardened_server.ui_url, verify=ca, timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/traces").status_code == 401
        ingest_token = {"Authorization": f"Bearer {INGEST_TOKEN}"}
        assert client.get("/api/traces", headers=ingest_token).status_code == 401
        assert client.get("/api/traces", headers=BEARER).status_code == 200
        login = client.post("/login", data={"token": UI_TOKEN, "next": "/search"})
        assert login.status_code == 303
        assert "Secure" in login.headers["set-cookie"]  # served over TLS: the cookie says so


def test_the_cli_sends_the_token_and_verifies_the_ui(hardened_server: HardenedServer) -> None:
    base = ["--url", hardened_server.ui_url, "--lookback", "1d"]
    ca = ["--ca-file", str(hardened_server.certs.ca)]
    runner = CliRunner()
    no_token = runner.invoke(search, [*base, *ca], env={"CLEW_UI_TOKEN": ""})
    assert no_token.exit_code == 1
    assert "wants its UI token: pass --token or set CLEW_UI_TOKEN" in no_token.output
    wrong = runner.invoke(search, [*base, *ca, "--token", "wrong"])
    assert wrong.exit_code == 1 and "the one given was refused" in wrong.output
    by_env = runner.invoke(search, [*base, *ca, "--json"], env={"CLEW_UI_TOKEN": UI_TOKEN})
    assert by_env.exit_code == 0, by_env.output
    assert "traces" in json.loads(by_env.output)
    untrusted = runner.invoke(search, [*base, "--token", UI_TOKEN], env={"CLEW_UI_CA_FILE": ""})
    assert untrusted.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.output
