"""Fuzzing the OTLP decoders (protobuf here, JSON in test_fuzz_json): DecodeError or rows in limits.

Properties, for protobuf and OTLP/JSON, traces and logs: nothing but DecodeError is raised; a
decoded request accounts for every item (accepted + rejected == items in it); every stored
string is valid UTF-8, every value within max_value_bytes, every attribute map within
max_attributes, every timestamp within the window. Sizes are bounded so no example can hang.

CI runs few examples; `CLEW_FUZZ_EXAMPLES=2000 uv run pytest -s tests/collector/test_fuzz_*.py`
runs a long campaign (the count is per test).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from clew.collector import decode
from clew.collector.errors import DecodeError
from clew.collector.limits import NS, Limits

from .test_limits import NOW, deep_body, nested, to_json

# Roomier than test_limits' LIMITS, so generated requests reach every path, not only refusals.
LIMITS = Limits(
    max_items=20,
    max_attributes=6,
    max_value_bytes=6000,
    max_value_depth=3,
    max_past_seconds=86_400,
    max_future_seconds=3600,
    clock=lambda: NOW,
)
EXAMPLES = int(os.environ.get("CLEW_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRIED: Counter[str] = Counter()  # outcomes, printed by the summary test at the end


# ---- strategies -------------------------------------------------------------------------------

# Now and then a value past max_value_bytes (in bytes: é is two) or one that JSON escapes.
TEXT = st.integers(0, 15).flatmap(
    lambda n: (
        st.just("é" * 3100) if n == 0 else st.just("<&>" * 30) if n == 1 else st.text(max_size=60)
    )
)
SCALARS = st.one_of(
    TEXT.map(lambda t: AnyValue(string_value=t)),
    st.integers(-(2**63), 2**63 - 1).map(lambda n: AnyValue(int_value=n)),
    st.floats().map(lambda f: AnyValue(double_value=f)),
    st.booleans().map(lambda b: AnyValue(bool_value=b)),
    st.binary(max_size=200).map(lambda b: AnyValue(bytes_value=b)),
    st.just(AnyValue()),
)


def _array(values: list[AnyValue]) -> AnyValue:
    value = AnyValue()
    value.array_value.values.extend(values)
    return value


def _kvlist(pairs: dict[str, AnyValue]) -> AnyValue:
    value = AnyValue()
    value.kvlist_value.values.extend(KeyValue(key=k, value=v) for k, v in pairs.items())
    return value


VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3).map(_array)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3).map(_kvlist)
    ),
    max_leaves=12,
) | st.integers(1, 6).map(nested)
ATTRIBUTES = st.lists(st.builds(KeyValue, key=st.text(max_size=10), value=VALUES), max_size=7)
# Mostly valid ids and times (so rows are made and checked), sometimes not.
BAD_ID = st.sampled_from([0, 1, 17]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
TRACE_IDS = st.binary(min_size=16, max_size=16) | BAD_ID
SPAN_IDS = st.binary(min_size=8, max_size=8) | BAD_ID
PARENT_IDS = st.just(b"") | st.binary(min_size=8, max_size=8) | BAD_ID
LOG_IDS = st.just(b"") | st.binary(min_size=8, max_size=8) | st.binary(min_size=16, max_size=16)
TIMES = st.integers(NOW - 86_400 * NS, NOW + 3600 * NS) | st.sampled_from(
    [0, NOW - 2 * 86_400 * NS, NOW + 7200 * NS, 2**64 - 1]
)
SPANS = st.builds(
    Span,
    trace_id=TRACE_IDS,
    span_id=SPAN_IDS,
    parent_span_id=PARENT_IDS,
    name=TEXT,
    kind=st.integers(0, 7),
    start_time_unix_nano=TIMES,
    end_time_unix_nano=TIMES,
    attributes=ATTRIBUTES,
    events=st.lists(st.builds(Span.Event, time_unix_nano=TIMES, attributes=ATTRIBUTES), max_size=2),
)
RECORDS = st.builds(
    LogRecord,
    time_unix_nano=TIMES,
    trace_id=LOG_IDS,
    span_id=LOG_IDS,
    body=VALUES,
    attributes=ATTRIBUTES,
    severity_number=st.integers(0, 30),
)


# Spans that are all valid: the requests that may take the fast path, if their values fit.
VALID_SPANS = st.builds(
    Span,
    trace_id=st.binary(min_size=16, max_size=16),
    span_id=st.binary(min_size=8, max_size=8),
    name=TEXT,
    start_time_unix_nano=st.integers(NOW - 86_400 * NS, NOW + 3600 * NS),
    attributes=st.lists(st.builds(KeyValue, key=st.text(max_size=10), value=VALUES), max_size=4),
)


@st.composite
def trace_requests(
    draw: st.DrawFn, spans: st.SearchStrategy[Span] = SPANS
) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        resource_spans = message.resource_spans.add()
        resource_spans.resource.attributes.extend(draw(ATTRIBUTES))
        resource_spans.scope_spans.add().spans.extend(draw(st.lists(spans, max_size=15)))
    return message


@st.composite
def logs_requests(draw: st.DrawFn) -> ExportLogsServiceRequest:
    message = ExportLogsServiceRequest()
    scope_logs = message.resource_logs.add().scope_logs.add()
    scope_logs.scope.attributes.extend(draw(ATTRIBUTES))
    scope_logs.log_records.extend(draw(st.lists(RECORDS, max_size=25)))
    return message


@st.composite
def mutated(draw: st.DrawFn, body: bytes) -> bytes:
    """`body` with a few bytes flipped, inserted, deleted, or cut short."""
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


# ---- the properties ---------------------------------------------------------------------------


def check(body: bytes, media: str, signal: str) -> None:
    """Decode `body`; the only error allowed is DecodeError, and the outcome obeys the limits."""
    decoder = decode.spans if signal == "spans" else decode.logs
    try:
        decoded = decoder(body, media, LIMITS)
    except DecodeError:
        TRIED[f"{signal} {media}: refused (DecodeError)"] += 1
        return
    fast = any(isinstance(item, decode.RawSpans) for item in decoded.rows)
    TRIED[f"{signal} {media}: decoded{' (fast path)' if fast else ''}"] += 1
    message_type = ExportTraceServiceRequest if signal == "spans" else ExportLogsServiceRequest
    message, _, _ = decode._parse(body, media, message_type, LIMITS)
    items = (
        sum(len(s.spans) for r in message.resource_spans for s in r.scope_spans)
        if (signal == "spans")
        else sum(len(s.log_records) for r in message.resource_logs for s in r.scope_logs)
    )
    assert decoded.accepted + decoded.rejected == items
    assert sum(decoded.reasons.values()) == decoded.rejected
    rows = [
        row
        for item in decoded.rows
        for row in (
            decode.spans_as_rows(item.body) if isinstance(item, decode.RawSpans) else [item]
        )
    ]
    assert len(rows) == decoded.accepted <= LIMITS.max_items
    low, high = LIMITS.window()
    for row in rows:
        assert low <= row["TimestampNs"] <= high
        _check_strings(row)
        for key, value in row.items():
            if key.endswith("Attributes"):
                for attributes in value if isinstance(value, list) else [value]:
                    assert len(attributes) <= LIMITS.max_attributes
                    assert all(_fits(text) for text in attributes.values())
        assert _fits(row.get("Body", ""))


def _fits(text: str) -> bool:
    """Within max_value_bytes, and a flattened map/list within max_value_depth."""
    if len(text.encode()) > LIMITS.max_value_bytes:
        return False
    try:
        nested = json.loads(text) if text[:1] in ("[", "{") else None
    except ValueError:
        return True  # not JSON, a plain string (or one cut short by the length limit)
    return _depth(nested) <= LIMITS.max_value_depth


def _depth(node: Any) -> int:
    if isinstance(node, list):
        return 1 + max(map(_depth, node), default=0)
    if isinstance(node, dict):
        return 1 + max(map(_depth, node.values()), default=0)
    return 0


def _check_strings(node: Any) -> None:
    if isinstance(node, str):
        node.encode("utf-8")  # raises on a lone surrogate: not storable as UTF-8
    elif isinstance(node, dict):
        for key, value in node.items():
            _check_strings(key)
            _check_strings(value)
    elif isinstance(node, list):
        for item in node:
            _check_strings(item)


# ---- protobuf ---------------------------------------------------------------------------------


@FUZZ
@given(body=st.binary(max_size=3000), signal=st.sampled_from(["spans", "logs"]))
def test_random_bytes(body: bytes, signal: str) -> None:
    check(body, decode.PROTOBUF, signal)


@FUZZ
@given(message=trace_requests())
def test_generated_trace_requests(message: ExportTraceServiceRequest) -> None:
    check(message.SerializeToString(), decode.PROTOBUF, "spans")
    check(to_json(message), decode.JSON, "spans")


@FUZZ
@given(message=trace_requests(VALID_SPANS))
def test_generated_valid_trace_requests(message: ExportTraceServiceRequest) -> None:
    check(message.SerializeToString(), decode.PROTOBUF, "spans")
    check(to_json(message), decode.JSON, "spans")


@FUZZ
@given(message=logs_requests())
def test_generated_logs_requests(message: ExportLogsServiceRequest) -> None:
    check(message.SerializeToString(), decode.PROTOBUF, "logs")


@FUZZ
@given(data=st.data(), message=trace_requests())
def test_mutated_trace_requests(data: st.DataObject, message: ExportTraceServiceRequest) -> None:
    check(data.draw(mutated(message.SerializeToString())), decode.PROTOBUF, "spans")


@FUZZ
@given(data=st.data(), message=logs_requests())
def test_mutated_logs_requests(data: st.DataObject, message: ExportLogsServiceRequest) -> None:
    check(data.draw(mutated(message.SerializeToString())), decode.PROTOBUF, "logs")


@FUZZ
@given(depth=st.integers(0, 120))
def test_deep_nesting(depth: int) -> None:
    check(deep_body(depth), decode.PROTOBUF, "spans")


@pytest.fixture(autouse=True, scope="module")
def _summary() -> Iterator[None]:
    """Print what the fuzz tests tried, by outcome (run with -s to see it)."""
    yield
    for outcome, count in sorted(TRIED.items()):
        print(f"fuzz: {outcome}: {count}")
