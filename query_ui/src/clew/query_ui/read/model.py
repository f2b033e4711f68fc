"""The read model's values: spans, their events and links, and log records, as stored.

These are facts about one stored row each. What needs the rest of the story (failed, the
links' other ends, back-links, a span's logs) is answered by story.Story.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

SpanRef = tuple[str, str]
"""(trace id, span id): span ids are only unique within a trace."""

ERROR_SEVERITY = 17
"""OTel SeverityNumber: ERROR is 17-20, FATAL 21-24."""
WARN_SEVERITY = 13
"""OTel SeverityNumber: WARN is 13-16."""

HTTP_STATUS_ATTRIBUTES = ("http.response.status_code", "http.status_code")
TOPIC_ATTRIBUTES = ("messaging.destination.name", "messaging.destination")
_SEVERITY_BANDS = ((21, "FATAL"), (17, "ERROR"), (13, "WARN"), (9, "INFO"), (5, "DEBUG"))


@lru_cache(maxsize=64)  # a handful of spellings, met once per span read
def normalise_kind(raw: str) -> str:
    """`SPAN_KIND_SERVER` (older exporters) or `Server` (current) → `Server`."""
    return _normalise(raw, "SPAN_KIND_") or "Unspecified"


@lru_cache(maxsize=64)
def normalise_status(raw: str) -> str:
    """`STATUS_CODE_ERROR` (older exporters) or `Error` (current) → `Error`."""
    return _normalise(raw, "STATUS_CODE_") or "Unset"


def _normalise(raw: str, prefix: str) -> str:
    value = raw.removeprefix(prefix)
    return value[:1].upper() + value[1:].lower()


def display_name(name: str, kind: str, attributes: Mapping[str, str]) -> str:
    """Span.display_name from the span's raw name, kind and attributes."""
    get = attributes.get
    method = get("http.request.method") or get("http.method")
    if method:
        return _http_name(name, kind, method, attributes)
    system = get("db.system.name") or get("db.system")
    if system:
        statement = get("db.query.text") or get("db.statement") or ""
        words = statement.split()
        operation = get("db.operation.name") or get("db.operation") or (words[0] if words else "")
        table = get("db.collection.name") or get("db.sql.table") or statement_table(statement)
        return " ".join(p for p in (system, operation.upper(), table) if p) or name
    topic = get("messaging.destination.name") or get("messaging.destination")
    if topic and kind in ("Producer", "Consumer"):
        default = "publish" if kind == "Producer" else "process"
        verb = get("messaging.operation.name") or get("messaging.operation") or default
        return f"{verb} {topic}"
    return name


def _http_name(name: str, kind: str, method: str, attributes: Mapping[str, str]) -> str:
    get = attributes.get
    url = get("url.full") or get("http.url") or ""
    path = get("http.route") or get("url.template") or get("url.path") or get("http.target")
    path = path or _url_path(url)
    if kind != "Client":
        return name if name != method or not path else f"{method} {path}"
    peer = get("peer.service") or get("server.address") or get("net.peer.name") or _host(url)
    port = get("server.port") or get("net.peer.port")
    if peer and port and (peer[:1].isdigit() or peer == "localhost"):
        peer = f"{peer}:{port}"
    return " ".join(p for p in (method, peer, path) if p)


def _url_path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].split("?", 1)[0] if "/" in rest else ""


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1] if "://" in url else ""


_TABLE = re.compile(r"\b(?:from|into|update|join|table)\s+[\"`\[]?([A-Za-z_][\w.]*)", re.I)


def statement_table(statement: str) -> str:
    """The first table a SQL statement names (FROM, INTO, UPDATE, JOIN, TABLE), or ''."""
    found = _TABLE.search(statement)
    return found.group(1) if found else ""


@dataclass(frozen=True)
class Event:
    """A span event; an `exception` event carries type, message and stack trace."""

    name: str
    time_ns: int
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exception_:
    """The first exception recorded on a span."""

    type: str
    message: str
    stacktrace: str


@dataclass(frozen=True)
class Link:
    """A span link: `trace_id`/`span_id` is the other end.

    `service`, `name` and `time_ns` describe the other end when it is stored (story.Story
    fills them in); they are empty when it is not.
    """

    trace_id: str
    span_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    service: str = ""
    name: str = ""
    time_ns: int = 0

    @property
    def ref(self) -> SpanRef:
        return (self.trace_id, self.span_id)


@dataclass(frozen=True)
class Span:
    """One stored span; kind and status read in the current exporter's spelling."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    start_ns: int
    duration_ns: int
    kind: str = "Internal"
    status: str = "Unset"
    status_message: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    links: tuple[Link, ...] = ()
    resource: Mapping[str, str] = field(default_factory=dict)
    scope: str = ""
    """The instrumentation scope (library) that made the span, with its version."""
    ref: SpanRef = field(init=False, repr=False, compare=False)
    """(trace id, span id): made once, since the tree, the failed set and the critical path
    look spans up by it hundreds of thousands of times on a big trace."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", (self.trace_id, self.span_id))

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Span:
        """A Span from a dict of every field but `ref` (the dict becomes the span's own).

        The loader makes thousands of spans per read; the generated __init__ of a frozen
        dataclass sets each field through object.__setattr__, four times slower than this.
        """
        span = object.__new__(cls)
        fields["ref"] = (fields["trace_id"], fields["span_id"])
        object.__setattr__(span, "__dict__", fields)
        return span

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    @property
    def display_name(self) -> str:
        """What the span did, in a person's words: `POST inventory /reservations` for an HTTP
        client span named `POST`, `sqlite UPDATE stock` for a database call named `UPDATE`,
        `process orders.placed` for a consumer (from server.address, url.*, http.route, db.*,
        messaging.*). Every surface shows this; the raw name stays in `name`."""
        return display_name(self.name, self.kind, self.attributes)

    @property
    def label(self) -> str:
        """How a person names this span in a sentence: service and what it did."""
        return f"{self.service} '{self.display_name}'"

    @property
    def http_status(self) -> int | None:
        """The HTTP response status, from the current attribute or the older one."""
        statuses = self.http_statuses
        return statuses[0] if statuses else None

    @property
    def http_statuses(self) -> tuple[int, ...]:
        """Every HTTP status attribute the span carries, current name first."""
        found: tuple[int, ...] = ()
        for key in HTTP_STATUS_ATTRIBUTES:
            value = self.attributes.get(key, "")
            if value.isdigit():
                found += (int(value),)
        return found

    @property
    def exception(self) -> Exception_ | None:
        for event in self.events:
            if event.name == "exception":
                attrs = event.attributes
                return Exception_(
                    attrs.get("exception.type", ""),
                    attrs.get("exception.message", ""),
                    attrs.get("exception.stacktrace", ""),
                )
        return None

    @property
    def topic(self) -> str:
        """The messaging destination (a Kafka topic), or ''."""
        return next((self.attributes[k] for k in TOPIC_ATTRIBUTES if k in self.attributes), "")


@dataclass(frozen=True)
class LogRecord:
    """One stored log record; trace_id/span_id are '' when it was written outside a span."""

    time_ns: int
    trace_id: str
    span_id: str
    service: str
    severity_text: str
    severity_number: int
    body: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> SpanRef:
        return (self.trace_id, self.span_id)

    @property
    def is_error(self) -> bool:
        """At ERROR or above: what makes the span it was written in a failed span."""
        return self.severity_number >= ERROR_SEVERITY

    @property
    def is_warning(self) -> bool:
        return WARN_SEVERITY <= self.severity_number < ERROR_SEVERITY

    @property
    def level(self) -> str:
        """Severity as a word: the text when there is one, else from the number."""
        if self.severity_text:
            return self.severity_text.upper()
        return level_of(self.severity_number)


def level_of(severity_number: int) -> str:
    """The OTel severity band a SeverityNumber falls in: TRACE, DEBUG, INFO, WARN, ERROR, FATAL."""
    return next((name for low, name in _SEVERITY_BANDS if severity_number >= low), "TRACE")
