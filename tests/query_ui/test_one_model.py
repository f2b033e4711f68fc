"""One read model: every surface says the same of the same trace, span by span.

Traces that exercise every failure signal (status, exception event, HTTP >= 500 on a server
and a client span and in the older attribute, an ERROR log in the span, a compensating action,
a handled error) go through OTLP into a real `clew serve`; then the trace page, the order page,
/api/traces/{id}, the diagnosis, `clew trace` and `clew why` must agree on which spans failed,
on the critical path and on the times, and the collector's failed-span index (SQL) must agree
with read/failed.py.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from clew.query_ui.cli import trace, why
from clew.query_ui.read.format import rfc3339
from tests.support.clew_server import ClewServer

ORDER = "agree-1"
TRACE = "a9ee0000000000000000000000000001"
OTHER = "a9ee0000000000000000000000000002"
T0 = (time.time_ns() // 10**9 - 300) * 10**9 + 123_456_789  # nanoseconds that must survive
MS = 1_000_000
EXPECTED_FAILED = {
    "0000000000000001",  # checkout POST /checkout: status Error + HTTP 500 (server)
    "0000000000000002",  # checkout POST payments: HTTP 502 on a client span
    "0000000000000003",  # payments POST /charge: an exception event, status Unset
    "0000000000000004",  # checkout cache get: an ERROR log written in it (handled: fell back)
    "0000000000000006",  # checkout refund: a compensating action that ended in Error
    "0000000000000008",  # legacy client: 503 in the older attribute beside a 200
    "00000000000000b1",  # billing consume (other trace): an ERROR log
}


def _attrs(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in values.items()]


def _span(span_id: str, parent: str, name: str, at: int, ms: int, **extra: Any) -> dict[str, Any]:
    span = {
        "traceId": extra.pop("trace", TRACE),
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": extra.pop("kind", 1),
        "startTimeUnixNano": str(T0 + at * MS),
        "endTimeUnixNano": str(T0 + (at + ms) * MS),
        "attributes": _attrs({"order.id": ORDER}) + extra.pop("attributes", []),
    }
    return span | extra


def _spans() -> list[tuple[str, list[dict[str, Any]]]]:
    error = {"code": 2, "message": "checkout failed"}
    exception = {
        "timeUnixNano": str(T0 + 40 * MS),
        "name": "exception",
        "attributes": _attrs(
            {"exception.type": "CardDeclined", "exception.message": "card 4242 declined"}
        ),
    }
    status_500 = [{"key": "http.response.status_code", "value": {"intValue": "500"}}]
    checkout = [
        _span("0000000000000001", "", "POST /checkout", 0, 100, kind=2, status=error,
              attributes=status_500),
        _span("0000000000000002", "0000000000000001", "POST payments", 10, 50, kind=3,
              attributes=_attrs({"http.response.status_code": "502", "server.address": "pay"})),
        _span("0000000000000004", "0000000000000001", "cache get", 2, 5),
        _span("0000000000000005", "0000000000000001", "SELECT stock", 62, 8, kind=3,
              attributes=_attrs({"http.response.status_code": "404"})),
        _span("0000000000000006", "0000000000000001", "refund", 72, 10, status=error,
              attributes=_attrs({"clew.compensation": "true"})),
        _span("0000000000000007", "0000000000000001", "warned", 84, 3),
        _span("0000000000000008", "0000000000000001", "legacy call", 88, 4, kind=3,
              attributes=_attrs({"http.response.status_code": "200", "http.status_code": "503"})),
        _span("0000000000000009", "0000000000000001", "publish", 93, 2, kind=4,
              attributes=_attrs({"messaging.destination.name": "orders"})),
    ]  # fmt: skip
    payments = [
        _span("0000000000000003", "0000000000000002", "POST /charge", 12, 45, kind=2,
              events=[exception]),
    ]  # fmt: skip
    billing = [
        _span("00000000000000b1", "", "orders process", 200, 20, kind=5, trace=OTHER,
              links=[{"traceId": TRACE, "spanId": "0000000000000009"}]),
    ]  # fmt: skip
    return [("checkout", checkout), ("payments", payments), ("billing", billing)]


def _log(trace_id: str, span_id: str, at: int, number: int, text: str, body: str) -> Any:
    return {
        "timeUnixNano": str(T0 + at * MS),
        "severityNumber": number,
        "severityText": text,
        "body": {"stringValue": body},
        "traceId": trace_id,
        "spanId": span_id,
        "attributes": _attrs({"order.id": ORDER}),
    }


def _logs() -> list[dict[str, Any]]:
    return [
        _log(TRACE, "0000000000000004", 4, 17, "ERROR", "cache timed out, reading the db"),
        _log(TRACE, "0000000000000007", 85, 13, "WARN", "slow stock"),
        _log(OTHER, "00000000000000b1", 210, 17, "ERROR", "could not book the invoice"),
    ]


def _resource(service: str) -> dict[str, Any]:
    return {"attributes": _attrs({"service.name": service})}


def _post(url: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClewServer]:
    server = ClewServer(tmp_path_factory.mktemp("one-model") / "clew-data")
    server.start()
    try:
        spans = [
            {"resource": _resource(svc), "scopeSpans": [{"scope": {"name": "t"}, "spans": s}]}
            for svc, s in _spans()
        ]
        _post(server.http_url, "/v1/traces", {"resourceSpans": spans})
        logs = {"resource": _resource("checkout"), "scopeLogs": [{"logRecords": _logs()}]}
        _post(server.http_url, "/v1/logs", {"resourceLogs": [logs]})
        _wait_stored(server.ui_url)
        yield server
    finally:
        server.stop()


def _wait_stored(ui: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        spans = httpx.get(f"{ui}/api/traces/{TRACE}", timeout=10)
        logs = httpx.get(f"{ui}/api/traces/{OTHER}/logs", timeout=10)
        if spans.status_code == 200 and len(spans.json()["spans"]) == 9 and logs.json()["logs"]:
            return
        time.sleep(0.2)
    raise AssertionError("the spans and logs sent were not stored within 60 s")


def _failed_rows(html: str) -> set[str]:
    rows = re.findall(r'<div class="row([^"]*)" id="row-([0-9a-f]+)"', html)
    return {span for classes, span in rows if "failed" in classes.split()}


def _critical_rows(html: str) -> set[str]:
    rows = re.findall(r'<div class="row([^"]*)" id="row-([0-9a-f]+)"', html)
    return {span for classes, span in rows if "critical" in classes.split()}


def test_every_surface_names_the_same_failed_spans(served: ClewServer) -> None:
    ui = served.ui_url
    api = {
        s["span_id"]
        for trace_id in (TRACE, OTHER)
        for s in httpx.get(f"{ui}/api/traces/{trace_id}").json()["spans"]
        if s["failed"]
    }
    assert api == EXPECTED_FAILED
    pages = _failed_rows(httpx.get(f"{ui}/traces/{TRACE}").text)
    pages |= _failed_rows(httpx.get(f"{ui}/traces/{OTHER}").text)
    assert pages == EXPECTED_FAILED
    assert _failed_rows(httpx.get(f"{ui}/orders/{ORDER}").text) == EXPECTED_FAILED
    diagnosis = httpx.get(f"{ui}/api/orders/{ORDER}/diagnosis").json()
    assert {s["span_id"] for s in diagnosis["failed_spans"]} == EXPECTED_FAILED
    cli = CliRunner().invoke(why, [ORDER, "--url", ui, "--json"])
    assert {s["span_id"] for s in json.loads(cli.stdout)["failed_spans"]} == EXPECTED_FAILED
    lines = CliRunner().invoke(trace, [TRACE, "--url", ui]).stdout.splitlines()
    for span in httpx.get(f"{ui}/api/traces/{TRACE}").json()["spans"]:
        line = next(x for x in lines if f"{span['service']}: {span['name']} " in x)
        assert line.startswith("✖") == (span["span_id"] in EXPECTED_FAILED), line


def test_the_failed_span_index_agrees_with_the_definition(served: ClewServer) -> None:
    # The search's status filter reads schema/016's SQL; read/failed.py is the definition.
    ui = served.ui_url
    found = httpx.get(f"{ui}/api/traces", params={"lookback": "1h", "status": "error"}).json()
    counts = {t["trace_id"]: t["error_count"] for t in found["traces"]}
    assert counts == {TRACE: 6, OTHER: 1}
    ok = httpx.get(f"{ui}/api/traces", params={"lookback": "1h", "status": "ok"}).json()
    assert ok["traces"] == []
    keyed = httpx.get(f"{ui}/api/keys/order.id/{ORDER}/traces").json()["traces"]
    assert {t["trace_id"]: t["has_error"] for t in keyed} == {TRACE: True, OTHER: True}


def test_the_critical_path_is_the_same_on_the_api_and_both_pages(served: ClewServer) -> None:
    ui = served.ui_url
    api = set(httpx.get(f"{ui}/api/traces/{TRACE}").json()["critical_path"])
    assert "0000000000000001" in api and "0000000000000002" in api
    assert _critical_rows(httpx.get(f"{ui}/traces/{TRACE}").text) == api
    order_rows = _critical_rows(httpx.get(f"{ui}/orders/{ORDER}").text)
    assert order_rows & {f"{i:016x}" for i in range(1, 10)} == api


def test_times_are_one_format_with_their_nanoseconds(served: ClewServer) -> None:
    ui = served.ui_url
    body = httpx.get(f"{ui}/api/traces/{TRACE}").json()
    root = next(s for s in body["spans"] if s["span_id"] == "0000000000000001")
    assert (root["start"], root["start_unix_nano"]) == (rfc3339(T0), T0)
    assert root["end_unix_nano"] == T0 + 100 * MS and root["end"] == rfc3339(T0 + 100 * MS)
    charge = httpx.get(f"{ui}/api/traces/{TRACE}").json()["spans"]
    event = next(s for s in charge if s["events"])["events"][0]
    assert event["time"] == rfc3339(event["time_unix_nano"]) == rfc3339(T0 + 40 * MS)
    logs = httpx.get(f"{ui}/api/traces/{TRACE}/logs").json()["logs"]
    first_log = (logs[0]["time"], logs[0]["time_unix_nano"])
    assert first_log == (rfc3339(T0 + 4 * MS), T0 + 4 * MS)
    diagnosis = httpx.get(f"{ui}/api/orders/{ORDER}/diagnosis").json()
    for cause in diagnosis["root_causes"]:
        assert cause["time"] == rfc3339(cause["time_unix_nano"])
    keyed = httpx.get(f"{ui}/api/keys/order.id/{ORDER}/traces").json()["traces"][0]
    assert keyed["first_seen"] == rfc3339(keyed["first_seen_unix_nano"])
    found = httpx.get(f"{ui}/api/traces", params={"lookback": "1h"}).json()["traces"]
    assert {t["start"] for t in found} == {rfc3339(t["start_unix_nano"]) for t in found}
    assert rfc3339(T0) in {t["start"] for t in found}


def test_the_trace_page_shows_times_relative_to_the_trace_start(served: ClewServer) -> None:
    html = httpx.get(f"{served.ui_url}/traces/{TRACE}").text
    # The payments span starts 12 ms in; its absolute time is on hover.
    assert f'<time title="{rfc3339(T0 + 12 * MS)}">+12.0 ms</time>' in html
