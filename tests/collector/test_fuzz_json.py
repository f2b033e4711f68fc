"""Fuzzing the OTLP/JSON decoder: random and mutated documents, wrong types, huge numbers, depth.

The properties are test_fuzz_protobuf's `check`: only DecodeError, every item accounted for,
everything stored within the limits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clew.collector import decode

from .test_fuzz_protobuf import FUZZ, NOW, TRIED, check, mutated, trace_requests
from .test_limits import to_json

# ---- documents -------------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["1e999", "-0", "ff" * 8, "0" * 32, "NaN", "\udc80"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(document=JSON_VALUES, signal=st.sampled_from(["spans", "logs"]))
def test_random_json(document: Any, signal: str) -> None:
    check(json.dumps(document).encode(), decode.JSON, signal)


@st.composite
def wrong_types(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one node replaced by a random JSON value (wrong types, huge numbers)."""
    places: list[tuple[Any, Any]] = []

    def collect(node: Any) -> None:
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else []
        )
        for key, child in children:
            places.append((node, key))
            collect(child)

    collect(document)
    if places:
        parent, key = draw(st.sampled_from(places))
        parent[key] = draw(JSON_VALUES)
    return document


@FUZZ
@given(data=st.data(), message=trace_requests())
def test_mutated_json(data: st.DataObject, message: ExportTraceServiceRequest) -> None:
    document = data.draw(wrong_types(json.loads(to_json(message))))
    check(json.dumps(document).encode(), decode.JSON, "spans")
    check(data.draw(mutated(json.dumps(document).encode())), decode.JSON, "spans")


ODD_VALUES = [1e400, -1e400, float("nan"), "NaN", "Infinity", 2**70, -1, 0.5, "x", [], {}, None]
SPAN_FIELDS = {
    "traceId": "ab" * 16,
    "spanId": "cd" * 8,
    "name": "n",
    "kind": 2,
    "startTimeUnixNano": str(NOW),
    "endTimeUnixNano": str(NOW),
    "attributes": [{"key": "k", "value": {"intValue": "1"}}],
    "events": [{"timeUnixNano": str(NOW), "name": "e"}],
    "links": [],
    "status": {"code": 1},
    "flags": 0,
}


@pytest.mark.parametrize("odd", ODD_VALUES, ids=repr)
def test_odd_values_in_every_field(odd: object) -> None:
    """Each field of a span and of a log record set to an odd JSON value: no crash."""
    for key in SPAN_FIELDS:
        item = {**SPAN_FIELDS, key: odd}
        spans = {"resourceSpans": [{"scopeSpans": [{"spans": [item]}]}]}
        check(json.dumps(spans).encode(), decode.JSON, "spans")
    for key in ("body", "severityNumber", "timeUnixNano", "traceId", "attributes", "flags"):
        record = {"timeUnixNano": str(NOW), key: odd}
        logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
        check(json.dumps(logs).encode(), decode.JSON, "logs")
    value = {
        "resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": {"intValue": odd}}]}}]
    }
    check(json.dumps(value).encode(), decode.JSON, "spans")


@FUZZ
@given(
    depth=st.integers(0, 3000), opener=st.sampled_from(["[", '{"a":', '{"arrayValue":{"values":['])
)
def test_deep_json(depth: int, opener: str) -> None:
    closer = {"[": "]", '{"a":': "}", '{"arrayValue":{"values":[': "]}}"}[opener]
    body = '{"resourceSpans":' + opener * depth + "1" + closer * depth + "}"
    check(body.encode(), decode.JSON, "spans")


@pytest.fixture(autouse=True, scope="module")
def _summary() -> Iterator[None]:
    """Print what the JSON fuzz tests tried, by outcome (run with -s to see it)."""
    yield
    for outcome, count in sorted(TRIED.items()):
        if "json" in outcome:
            print(f"fuzz: {outcome}: {count}")
