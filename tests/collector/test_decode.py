"""decode: OTLP protobuf and OTLP/JSON → rows, field by field as the exporter maps them."""

from __future__ import annotations

import pytest

from clew.collector import decode
from clew.collector.errors import DecodeError, UnsupportedMediaType

from .fixtures import FIXTURES, T0, logs_request, trace_request

MAIN_SPAN = {
    "TimestampNs": T0,
    "EndNs": T0 + 1_500_000,
    "TraceId": "5b8efff798038103d269b633813fc60c",
    "SpanId": "eee19b7ec3c1b174",
    "ParentSpanId": "eee19b7ec3c1b173",
    "TraceState": "k=v",
    "SpanName": "GET /orders/{id}",
    "SpanKind": "Server",
    "ServiceName": "checkout",
    "ResourceAttributes": {"service.name": "checkout", "host.name": "h1", "replica": "3"},
    "ScopeName": "my.lib",
    "ScopeVersion": "1.2.3",
    "SpanAttributes": {
        "str": "s",
        "flag": "true",
        "count": "42",
        "negative": "-7",
        "ratio": "3.5",
        "whole": "2",
        "tiny": "1.5e-7",
        "blob": "aGVsbG8=",
        "list": '["a",1,1.5,false]',
        "map": '{"a":2,"b":"x\\u003cy","c":["n"]}',
        "none": "",
        "order.id": "A-1",
    },
    "StatusCode": "Error",
    "StatusMessage": "payment declined",
    "EventsTimestampNs": [T0 + 500_000, T0 + 600_000],
    "EventsName": ["exception", "retry"],
    "EventsAttributes": [{"exception.message": "boom"}, {}],
    "LinksTraceId": ["0af7651916cd43dd8448eb211c80319c"],
    "LinksSpanId": ["b7ad6b7169203331"],
    "LinksTraceState": ["a=b"],
    "LinksAttributes": [{"messaging.system": "kafka"}],
}

LOG_SCOPE = {
    "ServiceName": "payments",
    "ResourceSchemaUrl": "https://opentelemetry.io/schemas/1.26.0",
    "ResourceAttributes": {"service.name": "payments"},
    "ScopeSchemaUrl": "https://opentelemetry.io/schemas/1.25.0",
    "ScopeName": "app.logger",
    "ScopeVersion": "0.1",
    "ScopeAttributes": {"scope.attr": "true"},
}
LOG_ROWS = [
    {
        "TimestampNs": T0,
        "TraceId": "5b8efff798038103d269b633813fc60c",
        "SpanId": "eee19b7ec3c1b174",
        "TraceFlags": 1,
        "SeverityText": "ERROR",
        "SeverityNumber": 17,
        "Body": "card declined",
        "LogAttributes": {"order.id": "A-1", "attempt": "2"},
        "EventName": "payment.failed",
        **LOG_SCOPE,
    },
    {
        "TimestampNs": T0 + 7,  # no time: the observed time, as the exporter does
        "TraceId": "",
        "SpanId": "",
        "TraceFlags": 0,
        "SeverityText": "",
        "SeverityNumber": 9,
        "Body": '{"msg":"hi"}',
        "LogAttributes": {},
        "EventName": "",
        **LOG_SCOPE,
    },
]


# An attribute whose value is 400 arrays deep: JSON parses it, protobuf's parser recurses.
DEEP_ANY_VALUE = (
    '{"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": '
    + '{"arrayValue": {"values": [' * 400
    + "]}}" * 400
    + "}]}}]}"
).encode()


def _bodies(kind: str) -> list[tuple[bytes, str]]:
    request = trace_request() if kind == "traces" else logs_request()
    return [
        (request.SerializeToString(), "application/x-protobuf"),
        ((FIXTURES / f"{kind}.json").read_bytes(), "application/json; charset=utf-8"),
    ]


@pytest.mark.parametrize(("body", "content_type"), _bodies("traces"), ids=["protobuf", "json"])
def test_spans_field_by_field(body: bytes, content_type: str) -> None:
    decoded = decode.spans(body, decode.media_type(content_type))
    rows = decoded.rows
    assert rows[0] == MAIN_SPAN
    small = {row["SpanName"]: row for row in rows[1:6]}
    assert {name: row["SpanKind"] for name, row in small.items()} == {
        "internal": "Internal",
        "client": "Client",
        "producer": "Producer",
        "consumer": "Consumer",
        "unspecified": "Unspecified",
    }
    assert small["internal"]["StatusCode"] == "Ok" and small["client"]["StatusCode"] == "Unset"
    assert small["client"]["ParentSpanId"] == "" and "LinksTraceId" not in small["client"]
    assert rows[6]["SpanName"] == "no service" and rows[6]["ServiceName"] == ""
    assert rows[6]["ResourceAttributes"] == {} and rows[6]["ScopeName"] == ""
    assert len(rows) == 7
    assert decoded.rejected == 3
    assert decoded.message.startswith("3 spans rejected: trace_id must be 16 bytes")


@pytest.mark.parametrize(("body", "content_type"), _bodies("logs"), ids=["protobuf", "json"])
def test_logs_field_by_field(body: bytes, content_type: str) -> None:
    decoded = decode.logs(body, decode.media_type(content_type))
    assert decoded.rows == LOG_ROWS
    assert decoded.rejected == 1 and "log records rejected" in decoded.message


def test_json_accepts_enum_names_and_numeric_strings() -> None:
    body = (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",'
        b'"spanId":"eee19b7ec3c1b174","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":1,'
        b'"endTimeUnixNano":"3","status":{"code":"STATUS_CODE_ERROR"}}]}]}]}'
    )
    [raw] = decode.spans(body, decode.JSON).rows
    assert isinstance(raw, decode.RawSpans) and raw.spans == 1
    [row] = decode.spans_as_rows(raw.body)
    assert (row["SpanKind"], row["StatusCode"], row["EndNs"] - row["TimestampNs"]) == (
        "Client",
        "Error",
        2,
    )


def test_unknown_enum_numbers_become_empty() -> None:
    request = trace_request()
    span = request.resource_spans[0].scope_spans[0].spans[1]
    span.kind = 9  # type: ignore[assignment]
    span.status.code = 7  # type: ignore[assignment]
    row = decode.spans(request.SerializeToString(), decode.PROTOBUF).rows[1]
    assert (row["SpanKind"], row["StatusCode"]) == ("", "")


def test_valid_trace_requests_stay_whole() -> None:
    request = trace_request()
    del request.resource_spans[0].scope_spans[0].spans[6:]  # drop the invalid spans
    body = request.SerializeToString()
    decoded = decode.spans(body, decode.PROTOBUF)
    assert decoded.rows == [decode.RawSpans(body, 7)]
    assert (decoded.accepted, decoded.rejected) == (7, 0)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xff\xff", decode.PROTOBUF),
        (b"not json", decode.JSON),
        (b"[1, 2]", decode.JSON),
        (b'{"resourceSpans": 5}', decode.JSON),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "x"}]}]}]}',
            decode.JSON,
        ),
        (b"[" * 100_000, decode.JSON),
        (DEEP_ANY_VALUE, decode.JSON),
    ],
)
def test_undecodable_bodies(body: bytes, content_type: str) -> None:
    with pytest.raises(DecodeError):
        decode.spans(body, content_type)


@pytest.mark.parametrize("content_type", ["text/plain", "", None, "application/xml"])
def test_unsupported_media_types(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        decode.media_type(content_type)


def test_empty_request_is_no_rows() -> None:
    for decoded in (decode.spans(b"", decode.PROTOBUF), decode.logs(b"{}", decode.JSON)):
        assert (decoded.rows, decoded.rejected, decoded.message) == ([], 0, "")
