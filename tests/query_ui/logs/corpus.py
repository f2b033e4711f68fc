"""Log records (and a few spans) sent to a real `clew serve` as OTLP/JSON, as services send them.

Times are minutes before `now`; ids are fixed per corpus so tests can name them.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

MIN = 60 * 10**9


def _attrs(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in values.items()]


def hex_id(length: int) -> str:
    return uuid.uuid4().hex[:length] if length <= 32 else ""


@dataclass
class Record:
    """One log record to send."""

    service: str
    severity: str
    number: int
    body: str
    time_ns: int
    trace_id: str = ""
    span_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    resource: dict[str, str] = field(default_factory=dict)

    def otlp(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "timeUnixNano": str(self.time_ns),
            "severityNumber": self.number,
            "severityText": self.severity,
            "body": {"stringValue": self.body},
            "attributes": _attrs(self.attributes),
        }
        if self.trace_id:
            record |= {"traceId": self.trace_id, "spanId": self.span_id}
        return record


def logs_body(records: list[Record]) -> bytes:
    """An ExportLogsServiceRequest in OTLP/JSON, one resource per record."""
    resource_logs = [
        {
            "resource": {"attributes": _attrs({"service.name": r.service, **r.resource})},
            "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [r.otlp()]}],
        }
        for r in records
    ]
    return json.dumps({"resourceLogs": resource_logs}).encode()


def span_body(service: str, trace_id: str, span_id: str, start_ns: int,
              attrs: dict[str, str], parent: str = "") -> bytes:  # fmt: skip
    """One span in OTLP/JSON."""
    span = {
        "traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": "POST /pay",
        "kind": 2, "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + MIN // 60),
        "attributes": _attrs(attrs),
    }  # fmt: skip
    resource = {"attributes": _attrs({"service.name": service})}
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}
    return json.dumps(body).encode()


def post(base: str, path: str, body: bytes) -> None:
    """POST one OTLP/JSON request; the server must accept it whole."""
    response = httpx.post(base + path, content=body,
                          headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
    assert response.status_code == 200, response.text
    assert "rejected" not in response.text or '"rejectedLogRecords"' not in response.text


@dataclass
class Corpus:
    """The ids and records the tests look for."""

    now: int
    t1: str = field(default_factory=lambda: hex_id(32))  # stored trace of order ord-1
    s1: str = field(default_factory=lambda: hex_id(16))
    s2: str = field(default_factory=lambda: hex_id(16))
    t2: str = field(default_factory=lambda: hex_id(32))  # logs only: its trace never arrived
    records: list[Record] = field(default_factory=list)

    def build(self) -> list[Record]:
        at = lambda minutes: self.now - int(minutes * MIN)  # noqa: E731
        self.records = [
            Record("checkout", "INFO", 9, "order ord-1 placed by customer alice@example.com",
                   at(30), self.t1, self.s1, {"order.id": "ord-1"}),
            Record("payments", "ERROR", 17, "Deadlock detected on accounts while charging",
                   at(29), self.t1, self.s2, {"order.id": "ord-1"}, {"region": "eu"}),
            Record("payments", "WARN", 13, "retrying the charge after a deadlock", at(28),
                   self.t1, self.s2),
            Record("cleanup-worker", "INFO", 9, "cleanup job removed 3 expired carts", at(20),
                   attributes={"job": "cleanup"}),
            Record("cleanup-worker", "ERROR", 17, "cleanup job failed: lock timeout on carts",
                   at(19), attributes={"job": "cleanup"}),
            Record("checkout", "DEBUG", 5, "cache hit for product:42", at(10), self.t2,
                   hex_id(16)),
            Record("payments", "INFO", 9, "card declined for order ord-2", at(5), self.t2,
                   hex_id(16), {"order.id": "ord-2"}, {"region": "us"}),
            Record("search", "", 0, "a line with no severity number", at(3)),
            Record("search", "FATAL", 21, "Out of memory: search index gone", at(2)),
            Record("search", "INFO", 9, "query took 3 hours long ago", at(60 * 30)),
        ]  # fmt: skip
        return self.records

    def send(self, base: str) -> None:
        """The records, then the two spans of t1 (so the order's business key names it)."""
        post(base, "/v1/logs", logs_body(self.build()))
        root = span_body("checkout", self.t1, self.s1, self.now - 30 * MIN, {"order.id": "ord-1"})
        post(base, "/v1/traces", root)
        child = span_body("payments", self.t1, self.s2, self.now - 29 * MIN, {}, parent=self.s1)
        post(base, "/v1/traces", child)


def wait_for(check: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll `check()` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
