"""Input limits: each one enforced for protobuf and OTLP/JSON, with its reason and counts."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.internal.encoder import _VarintBytes
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from clew.collector import decode
from clew.collector.errors import DecodeError
from clew.collector.limits import NS, TOO_DEEP, Limits
from clew.collector.settings import Settings

NOW = 1_800_000_000 * NS
LIMITS = Limits(
    max_items=5,
    max_attributes=3,
    max_value_bytes=100,
    max_value_depth=2,
    max_past_seconds=86_400,
    max_future_seconds=3600,
    clock=lambda: NOW,
)


def span(n: int, *, start: int = NOW, attributes: dict[str, AnyValue] | None = None) -> Span:
    return Span(
        trace_id=b"\x01" * 16,
        span_id=n.to_bytes(8, "big"),
        name=f"span {n}",
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1000,
        attributes=[KeyValue(key=k, value=v) for k, v in (attributes or {}).items()],
    )


def request(*spans: Span, resource: dict[str, AnyValue] | None = None) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    for key, value in (resource or {"service.name": AnyValue(string_value="svc")}).items():
        resource_spans.resource.attributes.add(key=key, value=value)
    resource_spans.scope_spans.add().spans.extend(spans)
    return message


def to_json(message: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON of a request: the protobuf JSON mapping with hex ids."""
    document = json_format.MessageToDict(message)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for item in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in item:
                        item[key] = base64.b64decode(item[key]).hex()
    return json.dumps(document).encode()


ENCODINGS: dict[str, Callable[[ExportTraceServiceRequest], tuple[bytes, str]]] = {
    "protobuf": lambda m: (m.SerializeToString(), decode.PROTOBUF),
    "json": lambda m: (to_json(m), decode.JSON),
}


@pytest.fixture(params=sorted(ENCODINGS))
def send(request: pytest.FixtureRequest) -> Callable[[ExportTraceServiceRequest], decode.Decoded]:
    encode = ENCODINGS[request.param]

    def run(message: ExportTraceServiceRequest) -> decode.Decoded:
        body, media = encode(message)
        return decode.spans(body, media, LIMITS)

    return run


def rows(decoded: decode.Decoded) -> list[dict[str, Any]]:
    """The rows a Decoded stands for, RawSpans turned into rows as the writer would."""
    out: list[dict[str, Any]] = []
    for item in decoded.rows:
        out.extend(decode.spans_as_rows(item.body) if isinstance(item, decode.RawSpans) else [item])
    return out


def s(text: str) -> AnyValue:
    return AnyValue(string_value=text)


def nested(depth: int) -> AnyValue:
    value = s("leaf")
    for _ in range(depth):
        outer = AnyValue()
        outer.array_value.values.append(value)
        value = outer
    return value


def test_a_request_within_every_limit_stays_whole() -> None:
    roomy = dataclasses.replace(LIMITS, max_value_bytes=6 * 1024)
    message = request(span(1, attributes={"a": s("x" * 100), "n": nested(2)}))
    decoded = decode.spans(message.SerializeToString(), decode.PROTOBUF, roomy)
    assert isinstance(decoded.rows[0], decode.RawSpans)
    assert (decoded.accepted, decoded.rejected, decoded.message) == (1, 0, "")
    assert rows(decoded)[0]["SpanAttributes"] == {"a": "x" * 100, "n": '[["leaf"]]'}


def test_items_past_the_per_request_limit_are_rejected(send: Callable[..., decode.Decoded]) -> None:
    decoded = send(request(*(span(n) for n in range(1, 8))))
    assert (decoded.accepted, decoded.rejected, decoded.reasons) == (5, 2, {"too_many_items": 2})
    assert [row["SpanName"] for row in rows(decoded)] == [f"span {n}" for n in range(1, 6)]
    assert "(2 too_many_items)" in decoded.message


def test_attributes_past_the_limit_are_dropped_and_counted(
    send: Callable[..., decode.Decoded],
) -> None:
    many = {f"k{n}": s(str(n)) for n in range(5)}
    decoded = send(request(span(1, attributes=many), resource=many))
    [row] = rows(decoded)
    assert row["SpanAttributes"] == {"k0": "0", "k1": "1", "k2": "2"}
    assert row["ResourceAttributes"] == {"k0": "0", "k1": "1", "k2": "2"}
    assert decoded.adjusted == {"attributes_dropped": 4} and decoded.rejected == 0
    assert "values fitted to the limits: 4 attributes_dropped" in decoded.message


def test_long_values_are_truncated_with_a_marker(send: Callable[..., decode.Decoded]) -> None:
    long = "é" * 80  # 160 bytes of UTF-8: the cut must not split a character
    decoded = send(request(span(1, attributes={"long": s(long), "list": nested(1)})))
    [row] = rows(decoded)
    value = row["SpanAttributes"]["long"]
    assert len(value.encode()) <= LIMITS.max_value_bytes
    assert value.startswith("é" * 30) and value.endswith("bytes]") and "…[truncated " in value
    kept = value.split("…[truncated ")[0]
    assert int(value.rsplit(" ", 2)[1]) == len(long.encode()) - len(kept.encode())
    assert decoded.adjusted == {"value_truncated": 1}


def test_maps_and_lists_past_the_depth_are_replaced(send: Callable[..., decode.Decoded]) -> None:
    decoded = send(request(span(1, attributes={"deep": nested(5)})))
    [row] = rows(decoded)
    assert json.loads(row["SpanAttributes"]["deep"]) == [[TOO_DEEP]]
    assert decoded.adjusted == {"depth_truncated": 1}


def test_timestamps_outside_the_window_are_rejected(send: Callable[..., decode.Decoded]) -> None:
    old, future = NOW - 2 * 86_400 * NS, NOW + 7200 * NS
    decoded = send(request(span(1), span(2, start=old), span(3, start=future), span(4, start=0)))
    assert decoded.reasons == {"timestamp_too_old": 2, "timestamp_in_future": 1}
    assert [row["SpanName"] for row in rows(decoded)] == ["span 1"]


def test_invalid_ids_are_rejected_with_their_reason(send: Callable[..., decode.Decoded]) -> None:
    bad = span(2)
    bad.trace_id = b"\x01"
    decoded = send(request(span(1), bad))
    assert (decoded.accepted, decoded.reasons) == (1, {"invalid_id": 1})


def test_invalid_utf8_in_protobuf_is_replaced_not_refused() -> None:
    message = request(span(1, attributes={"k": s("aXb")}), span(2))
    message.resource_spans[0].scope_spans[0].spans[1].name = "nameX"
    body = message.SerializeToString().replace(b"X", b"\xff")
    decoded = decode.spans(body, decode.PROTOBUF, LIMITS)
    found = rows(decoded)
    assert found[0]["SpanAttributes"]["k"] == "a\ufffdb" and found[1]["SpanName"] == "name\ufffd"
    assert decoded.adjusted == {"invalid_utf8": 2} and decoded.accepted == 2


def test_invalid_utf8_in_json_is_replaced_not_refused() -> None:
    body = to_json(request(span(1, attributes={"k": s("aXb"), "lone": s("Y")})))
    body = body.replace(b"X", b"\xc3").replace(b'"Y"', b'"\\udc80"')
    decoded = decode.spans(body, decode.JSON, LIMITS)
    [row] = rows(decoded)
    assert row["SpanAttributes"] == {"k": "a\ufffdb", "lone": "\ufffd"}
    assert decoded.adjusted == {"invalid_utf8": 2}


def test_logs_get_the_same_limits() -> None:
    message = ExportLogsServiceRequest()
    scope = message.resource_logs.add().scope_logs.add()
    for n in range(7):
        scope.log_records.add(time_unix_nano=NOW, body=s("b" * 200 if n == 0 else "ok"))
    scope.log_records.add(time_unix_nano=NOW + 7200 * NS)
    decoded = decode.logs(message.SerializeToString(), decode.PROTOBUF, LIMITS)
    assert decoded.reasons == {"too_many_items": 2, "timestamp_in_future": 1}
    assert decoded.rows[0]["Body"].endswith("bytes]") and decoded.adjusted == {"value_truncated": 1}


def _field(number: int, payload: bytes) -> bytes:
    return _VarintBytes(number << 3 | 2) + _VarintBytes(len(payload)) + payload


def deep_body(depth: int) -> bytes:
    """A trace request whose one attribute nests `depth` lists (built by hand: upb refuses it)."""
    value = _field(1, b"leaf")  # AnyValue.string_value
    for _ in range(depth):
        value = _field(5, _field(1, value))  # AnyValue.array_value > ArrayValue.values
    span_bytes = span(1).SerializeToString() + _field(9, _field(1, b"deep") + _field(2, value))
    return _field(1, _field(2, _field(2, span_bytes)))


def test_protobuf_nested_past_the_parser_bound_is_a_decode_error() -> None:
    assert json.loads(
        rows(decode.spans(deep_body(40), decode.PROTOBUF, LIMITS))[0]["SpanAttributes"]["deep"]
    ) == [[TOO_DEEP]]
    body = deep_body(60)
    with pytest.raises(DecodeError, match="MaxDepth"):
        decode.spans(body, decode.PROTOBUF, LIMITS)


def test_json_nested_past_pythons_stack_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="nested too deeply"):
        decode.spans(b"[" * 100_000 + b"]" * 100_000, decode.JSON, LIMITS)
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    with pytest.raises(DecodeError, match="nested too deeply"):
        decode.spans(deep, decode.JSON, LIMITS)


def test_deep_json_anyvalue_is_cut_not_refused() -> None:
    value = '{"arrayValue": {"values": [' * 200 + '{"stringValue": "leaf"}' + "]}}" * 200
    document = json.loads(to_json(request(span(1))))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = "ATTRIBUTES"
    body = json.dumps(document).replace('"ATTRIBUTES"', f'[{{"key": "deep", "value": {value}}}]')
    decoded = decode.spans(body.encode(), decode.JSON, LIMITS)
    assert json.loads(rows(decoded)[0]["SpanAttributes"]["deep"]) == [[TOO_DEEP]]


@pytest.mark.parametrize(
    ("where", "size", "fast"),
    [
        ("span", 900, True),  # the span is small enough to need no look
        ("span", 5000, True),  # big span, every value within the limit: looked at, still whole
        ("span", 7000, False),
        ("event", 7000, False),
        ("resource", 5000, True),
        ("resource", 7000, False),
    ],
)
def test_big_spans_leave_the_fast_path_only_when_a_value_needs_it(
    where: str, size: int, fast: bool
) -> None:
    roomy = Limits(max_value_bytes=6 * 1024, clock=lambda: NOW)
    value = {"a": s("x" * size)}
    message = request(span(1, attributes=value if where == "span" else {}), span(2))
    if where == "event":
        message.resource_spans[0].scope_spans[0].spans[0].events.add(name="e").attributes.add(
            key="a", value=s("x" * size)
        )
    if where == "resource":
        message = request(span(1), span(2), resource=value)
    decoded = decode.spans(message.SerializeToString(), decode.PROTOBUF, roomy)
    assert isinstance(decoded.rows[0], decode.RawSpans) == fast
    assert decoded.adjusted == ({} if fast else {"value_truncated": 1})
    assert decoded.accepted == 2


def test_limits_come_from_clew_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Limits.from_settings(Settings())
    assert (defaults.max_items, defaults.max_attributes, defaults.max_value_bytes) == (
        20_000,
        128,
        64 * 1024,
    )
    assert (defaults.max_value_depth, defaults.max_future_seconds) == (16, 3600)
    assert defaults.max_past_seconds == 7 * 86_400
    for name, value in {
        "CLEW_MAX_ITEMS_PER_REQUEST": "10",
        "CLEW_MAX_ATTRIBUTES": "4",
        "CLEW_MAX_VALUE_BYTES": "1000",
        "CLEW_MAX_VALUE_DEPTH": "3",
        "CLEW_MAX_FUTURE_SECONDS": "60",
        "CLEW_RETENTION_DAYS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    limits = Limits.from_settings(Settings())
    assert (limits.max_items, limits.max_attributes, limits.max_value_bytes) == (10, 4, 1000)
    assert (limits.max_value_depth, limits.max_future_seconds) == (3, 60)
    assert limits.max_past_seconds == 2 * 86_400
    low, high = limits.window()
    assert high - low == (2 * 86_400 + 60) * NS


@pytest.mark.parametrize("depth", [1, 2, 16])
def test_the_fast_path_depth_check_is_exact_where_nesting_is_shallowest(depth: int) -> None:
    roomy = Limits(max_value_depth=depth, clock=lambda: NOW)
    within = request(span(1), resource={"n": nested(depth)}).SerializeToString()
    past = request(span(1), resource={"n": nested(depth + 1)}).SerializeToString()
    assert isinstance(decode.spans(within, decode.PROTOBUF, roomy).rows[0], decode.RawSpans)
    cut = decode.spans(past, decode.PROTOBUF, roomy)
    assert cut.adjusted == {"depth_truncated": 1}
    assert TOO_DEEP in rows(cut)[0]["ResourceAttributes"]["n"]


def test_a_log_record_without_any_time_is_stamped_with_its_arrival() -> None:
    message = ExportLogsServiceRequest()
    scope = message.resource_logs.add().scope_logs.add()
    scope.log_records.add(body=s("no time at all"))
    scope.log_records.add(observed_time_unix_nano=NOW - 60 * NS, body=s("observed only"))
    decoded = decode.logs(message.SerializeToString(), decode.PROTOBUF, LIMITS)
    assert decoded.rejected == 0
    assert [row["TimestampNs"] for row in decoded.rows] == [NOW, NOW - 60 * NS]


def test_no_request_may_hold_more_items_than_the_buffer() -> None:
    # Else a request of 11 items against a 10-row buffer would be answered 503 forever.
    settings = Settings(max_items_per_request=50, buffer_max_rows=10)
    assert Limits.from_settings(settings).max_items == 10
