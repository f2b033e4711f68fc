"""Bad inputs against a real `clew serve`: each gets its status, nothing crashes, nothing is lost.

A corpus of hostile or broken requests, by kind, goes to both receivers (OTLP/HTTP and, where
the kind exists there, OTLP/gRPC). A valid request follows every bad one; at the end every span
of the valid requests, and the valid parts of partially accepted ones, is in the store.
"""

from __future__ import annotations

import gzip
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc
import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.collector.test_limits import deep_body
from tests.support.clew_server import ClewServer

PB = "application/x-protobuf"
JS = "application/json"
TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LIMITS_ENV = {
    "CLEW_MAX_BODY_BYTES": str(256 * 1024),
    "CLEW_MAX_ITEMS_PER_REQUEST": "50",
    "CLEW_MAX_ATTRIBUTES": "16",
    "CLEW_MAX_VALUE_BYTES": "1024",
    "CLEW_MAX_VALUE_DEPTH": "4",
}
NS = 1_000_000_000
OK, BAD, TOO_LARGE, MEDIA = 200, 400, 413, 415
G_OK, G_BAD, G_BIG = (
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
)


def span(name: str = "ok", *, start: int | None = None, **fields: object) -> Span:
    now = time.time_ns() if start is None else start
    # No "X" in the ids: the invalid-UTF-8 case turns every X of its body into a bad byte.
    random_ids = {"trace_id": os.urandom(16), "span_id": os.urandom(8)}
    values = {key: value.replace(b"X", b"Y") for key, value in random_ids.items()} | fields
    return Span(name=name, start_time_unix_nano=now, end_time_unix_nano=now + 1000, **values)


def traces(*spans: Span) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    resource_spans.resource.attributes.add(key="service.name", value=AnyValue(string_value="bad"))
    resource_spans.scope_spans.add().spans.extend(spans)
    return message


def ids(message: ExportTraceServiceRequest) -> set[str]:
    return {
        sp.span_id.hex()
        for rs in message.resource_spans
        for ss in rs.scope_spans
        for sp in ss.spans
    }


def attrs(**values: AnyValue) -> list[KeyValue]:
    return [KeyValue(key=key, value=value) for key, value in values.items()]


@dataclass
class Case:
    """One bad input: its body and headers, the statuses it may get, the span ids it must store."""

    kind: str
    body: bytes
    http: set[int]
    grpc: set[grpc.StatusCode] = field(default_factory=set)  # empty: not a gRPC case
    media: str = PB
    encoding: str = ""
    path: str = "/v1/traces"
    stored: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)  # span ids that must not be stored
    rejected: int | None = None
    warned: bool = False  # an OTLP partial-success warning (rejected 0, a message) expected


def corpus(rng: random.Random) -> Iterator[Case]:
    """The bad inputs, by kind (several of each where they vary)."""
    valid = traces(*(span(f"s{n}") for n in range(5))).SerializeToString()
    for cut in sorted(rng.sample(range(1, len(valid)), 6)):
        yield Case("truncated protobuf", valid[:cut], {OK, BAD}, {G_OK, G_BAD})
    for size in (1, 17, 300, 5000):
        yield Case("random bytes", rng.randbytes(size), {OK, BAD}, {G_OK, G_BAD})
        yield Case("random bytes as JSON", rng.randbytes(size), {BAD}, media=JS)
    yield Case("empty body", b"", {OK}, {G_OK})
    yield Case("gzip bomb", gzip.compress(b"\0" * (64 << 20)), {TOO_LARGE}, encoding="gzip")
    yield Case("corrupt gzip", b"not gzip at all", {BAD}, encoding="gzip")
    yield Case("truncated gzip", gzip.compress(valid)[:-9], {BAD}, encoding="gzip")
    yield Case("wrong content type", valid, {MEDIA}, media="text/plain")
    yield Case("wrong content encoding", valid, {MEDIA}, encoding="br")
    yield Case("oversized request", b"\0" * (300 * 1024), {TOO_LARGE}, {G_BIG})
    yield Case("deep JSON", b"[" * 50_000 + b"]" * 50_000, {BAD}, media=JS)
    yield Case("wrong JSON types", b'{"resourceSpans": "x"}', {BAD}, media=JS)
    yield Case(
        "huge JSON number",
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": 1e400}]}]}]}',
        {BAD},
        media=JS,
    )
    yield Case("deep protobuf AnyValue", deep_body(60), {BAD}, {G_BAD})
    cut_deep = traces(span("deep", attributes=attrs(v=_nested(10))))
    yield Case(
        "deep AnyValue (cut)",
        cut_deep.SerializeToString(),
        {OK},
        {G_OK},
        warned=True,
        stored=ids(cut_deep),
    )
    huge = traces(span("huge", attributes=attrs(v=AnyValue(string_value="x" * 100_000))))
    yield Case(
        "huge attribute value",
        huge.SerializeToString(),
        {OK},
        {G_OK},
        warned=True,
        stored=ids(huge),
    )
    many = traces(
        span("many", attributes=attrs(**{f"k{n}": AnyValue(int_value=n) for n in range(40)}))
    )
    yield Case(
        "too many attributes", many.SerializeToString(), {OK}, {G_OK}, warned=True, stored=ids(many)
    )
    crowd = traces(*(span(f"c{n}") for n in range(60)))
    yield Case("too many spans", crowd.SerializeToString(), {OK}, {G_OK}, rejected=10)
    utf8 = traces(span("nameX"), span("ok", attributes=attrs(k=AnyValue(string_value="aXb"))))
    body = utf8.SerializeToString().replace(b"X", b"\xff")
    yield Case("invalid UTF-8", body, {OK}, {G_OK}, stored=ids(utf8), rejected=0)
    yield Case(
        "invalid UTF-8 JSON",
        b'{"resourceSpans": [{"resource": {"attributes": [{"key": "k",'
        b' "value": {"stringValue": "\xff\xfe"}}]}}]}',
        {OK},
        media=JS,
    )
    future, past, fine = (
        span("future", start=time.time_ns() + 200 * 365 * 86_400 * NS),
        span("past", start=1),
        span("fine"),
    )
    timed = traces(future, past, fine)
    yield Case(
        "timestamps far in the future or past",
        timed.SerializeToString(),
        {OK},
        {G_OK},
        stored=ids(traces(fine)),
        lost=ids(traces(future, past)),
        rejected=2,
    )
    bad_ids, good = span("bad id", trace_id=b"\x01"), span("good")
    mixed = traces(bad_ids, good)
    yield Case(
        "invalid ids", mixed.SerializeToString(), {OK}, {G_OK}, stored=ids(traces(good)), rejected=1
    )
    logs = ExportLogsServiceRequest()
    logs.resource_logs.add().scope_logs.add().log_records.add(
        time_unix_nano=time.time_ns() + 86_400 * NS
    )
    yield Case("logs in the future", logs.SerializeToString(), {OK}, path="/v1/logs")


def _nested(depth: int) -> AnyValue:
    value = AnyValue(string_value="leaf")
    for _ in range(depth):
        outer = AnyValue()
        outer.array_value.values.append(value)
        value = outer
    return value


class Sender:
    """Sends cases and valid requests to both receivers, tallying what came back."""

    def __init__(self, server: ClewServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.http_url, timeout=60)
        self.channel = grpc.insecure_channel(server.grpc_target)
        self.export: Callable[..., ExportTraceServiceResponse] = self.channel.unary_unary(
            TRACES,
            request_serializer=lambda raw: raw,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        self.tried: Counter[tuple[str, str]] = Counter()
        self.statuses: dict[tuple[str, str], set[str]] = {}
        self.valid: set[str] = set()

    def case(self, case: Case) -> None:
        headers = {
            "Content-Type": case.media,
            **({"Content-Encoding": case.encoding} if case.encoding else {}),
        }
        response = self.http.post(case.path, content=case.body, headers=headers)
        self._tally(case.kind, "HTTP", str(response.status_code))
        assert response.status_code in case.http, (case.kind, response.status_code, response.text)
        if response.status_code == OK and case.path == "/v1/traces" and case.media == PB:
            self._answer(case, ExportTraceServiceResponse.FromString(response.content))
        if case.grpc:
            self._grpc(case)

    def _grpc(self, case: Case) -> None:
        try:
            answer = self.export(case.body, timeout=60)
            code = G_OK
        except grpc.RpcError as failure:
            code = failure.code()
        self._tally(case.kind, "gRPC", code.name)
        assert code in case.grpc, (case.kind, code)
        if code == G_OK:
            self._answer(case, answer)

    def _answer(self, case: Case, answer: ExportTraceServiceResponse) -> None:
        if case.rejected is not None:
            assert answer.partial_success.rejected_spans == case.rejected, case.kind
        if case.warned:
            assert answer.partial_success.rejected_spans == 0, case.kind
            assert "fitted to the limits" in answer.partial_success.error_message, case.kind

    def valid_request(self, over_grpc: bool) -> None:
        message = traces(span("valid"), span("valid"))
        if over_grpc:
            self.export(message.SerializeToString(), timeout=60)
        else:
            response = self.http.post(
                "/v1/traces", content=message.SerializeToString(), headers={"Content-Type": PB}
            )
            assert response.status_code == OK
        self.valid |= ids(message)

    def _tally(self, kind: str, receiver: str, status: str) -> None:
        assert self.server.running, f"clew serve died on {kind}:\n{self.server.log()}"
        assert not status.startswith("5") and status not in ("INTERNAL", "UNKNOWN"), (kind, status)
        self.tried[(kind, receiver)] += 1
        self.statuses.setdefault((kind, receiver), set()).add(status)

    def close(self) -> None:
        self.http.close()
        self.channel.close()


def test_bad_inputs_get_their_status_and_lose_nothing(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    server = clew_server_factory(LIMITS_ENV)
    server.start()
    sender = Sender(server)
    cases = list(corpus(random.Random(7)))
    try:
        for number, case in enumerate(cases):
            sender.case(case)
            sender.valid_request(over_grpc=number % 2 == 1)
        metrics = sender.http.get("/metrics").text
    finally:
        sender.close()
    assert server.stop() == 0, server.log()
    stored = {row["SpanId"] for row in server.query("SELECT SpanId FROM otel_traces")}
    must = sender.valid.union(*(case.stored for case in cases))
    assert must <= stored, f"{len(must - stored)} accepted spans missing"
    assert not set().union(*(case.lost for case in cases)) & stored
    [shape] = server.query(
        "SELECT max(length(SpanAttributes['v'])) AS longest,"
        " max(length(SpanAttributes)) AS most, countIf(SpanName = 'name\ufffd') AS replaced"
        " FROM otel_traces"
    )
    assert 0 < shape["longest"] <= 1024 and shape["most"] == 16 and shape["replaced"] == 2
    assert 'clew_adjusted_total{reason="value_truncated",signal="spans"}' in metrics
    _print_table(sender, len(must), crashes=0)


def _print_table(sender: Sender, stored: int, crashes: int) -> None:
    print(f"\nbad inputs tried ({sum(sender.tried.values())}), by kind and receiver:")
    for (kind, receiver), count in sorted(sender.tried.items()):
        statuses = ", ".join(sorted(sender.statuses[(kind, receiver)]))
        print(f"  {kind:38} {receiver:5} {count:3}  {statuses}")
    print(f"valid spans sent in between and partial-success spans stored: {stored}, lost: 0")
    print(f"crashes = {crashes}, 5xx/INTERNAL answers = 0")
