"""What the pages, the API and the CLI show: spans, logs and links as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from typing_extensions import TypedDict

_KINDS = {
    "SPAN_KIND_SERVER": "Server",
    "SPAN_KIND_CLIENT": "Client",
    "SPAN_KIND_PRODUCER": "Producer",
    "SPAN_KIND_CONSUMER": "Consumer",
    "SPAN_KIND_INTERNAL": "Internal",
    "SPAN_KIND_UNSPECIFIED": "Unspecified",
}
_STATUSES = {"STATUS_CODE_ERROR": "Error", "STATUS_CODE_OK": "Ok", "STATUS_CODE_UNSET": "Unset"}
_HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code")
TOPIC_KEYS = ("messaging.destination.name", "messaging.destination")


def rfc3339(ns: int) -> str:
    """Unix nanoseconds as an RFC 3339 UTC timestamp with microseconds."""
    moment = datetime.fromtimestamp(ns // 1000 / 1_000_000, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def human_duration(ns: int) -> str:
    """A duration the way people read it: 850µs, 12.3ms, 4.56s, 3m05s."""
    if ns < 1_000_000:
        return f"{ns / 1000:.0f}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.3g}ms"
    if ns < 60 * 10**9:
        return f"{ns / 10**9:.3g}s"
    minutes, seconds = divmod(ns // 10**9, 60)
    return f"{minutes}m{seconds:02d}s"


# The JSON API's shapes (the OpenAPI schema uses them, to_dict builds them).


class LinkOut(TypedDict, total=False):
    """A link (or back-link); service, name and start when the other span is stored."""

    trace_id: str
    span_id: str
    attributes: dict[str, str]
    service: str
    name: str
    start: str


class SpanOut(TypedDict):
    """A span as the JSON API returns it; `exception` is the first exception event's."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    service: str
    start: str
    start_unix_nano: int
    duration_ns: int
    status: str
    status_message: str
    failed: bool
    attributes: dict[str, str]
    resource: dict[str, str]
    scope: str
    events: list[dict[str, Any]]
    exception: dict[str, str] | None
    links: list[LinkOut]
    back_links: list[LinkOut]


class LogOut(TypedDict):
    """One log record."""

    timestamp: str
    time_unix_nano: int
    trace_id: str
    span_id: str
    severity: str
    severity_number: int
    service: str
    body: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Event:
    """A span event; an `exception` event carries type, message and stack trace."""

    time_ns: int
    name: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Link:
    """A span link, or a back-link: `trace_id`/`span_id` is the other end."""

    trace_id: str
    span_id: str
    attributes: dict[str, str]
    service: str = ""
    name: str = ""
    time_ns: int = 0


@dataclass(frozen=True)
class Exception_:
    """The exception recorded on a span."""

    type: str
    message: str
    stacktrace: str


@dataclass
class Span:
    """One stored span, enum spellings normalised."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    service: str
    start_ns: int
    duration_ns: int
    status: str
    status_message: str
    attributes: dict[str, str]
    resource: dict[str, str]
    scope: str
    events: list[Event] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    back_links: list[Link] = field(default_factory=list)
    error_logged: bool = False
    """A log record at ERROR or above was written in the span."""

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    @property
    def http_status(self) -> int | None:
        for key in _HTTP_STATUS_KEYS:
            if self.attributes.get(key, "").isdigit():
                return int(self.attributes[key])
        return None

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
    def failed(self) -> bool:
        """The explainer's failed span (explain/failed.py): status Error, an exception event,
        an HTTP status of 500 or more, or an ERROR log written in it."""
        status = self.http_status
        return (
            self.status == "Error"
            or self.exception is not None
            or (status is not None and status >= 500)
            or self.error_logged
        )

    @property
    def topic(self) -> str:
        return next((self.attributes[k] for k in TOPIC_KEYS if k in self.attributes), "")

    def to_dict(self) -> SpanOut:
        """The span as the JSON API returns it."""
        exc = self.exception
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "name": self.name,
            "kind": self.kind,
            "service": self.service,
            "start": rfc3339(self.start_ns),
            "start_unix_nano": self.start_ns,
            "duration_ns": self.duration_ns,
            "status": self.status,
            "status_message": self.status_message,
            "failed": self.failed,
            "attributes": self.attributes,
            "resource": self.resource,
            "scope": self.scope,
            "events": [_event_dict(e) for e in self.events],
            "exception": None if exc is None else exc.__dict__,
            "links": [_link_dict(link) for link in self.links],
            "back_links": [_link_dict(link) for link in self.back_links],
        }


@dataclass(frozen=True)
class LogLine:
    """One stored log record."""

    time_ns: int
    trace_id: str
    span_id: str
    severity: str
    severity_number: int
    service: str
    body: str
    attributes: dict[str, str]

    @property
    def is_error(self) -> bool:
        """At ERROR or above: what makes the span it was written in a failed span."""
        return self.severity_number >= 17 or self.level in ("ERROR", "FATAL")

    @property
    def level(self) -> str:
        """Severity as a word, from the number when the text is empty."""
        if self.severity:
            return self.severity.upper()
        bands = ((21, "FATAL"), (17, "ERROR"), (13, "WARN"), (9, "INFO"), (5, "DEBUG"))
        return next((name for low, name in bands if self.severity_number >= low), "TRACE")

    def to_dict(self) -> LogOut:
        """The log record as the JSON API returns it."""
        return {
            "timestamp": rfc3339(self.time_ns),
            "time_unix_nano": self.time_ns,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "severity": self.level,
            "severity_number": self.severity_number,
            "service": self.service,
            "body": self.body,
            "attributes": self.attributes,
        }


def _event_dict(event: Event) -> dict[str, Any]:
    return {"timestamp": rfc3339(event.time_ns), "name": event.name, "attributes": event.attributes}


def _link_dict(link: Link) -> LinkOut:
    out = LinkOut(trace_id=link.trace_id, span_id=link.span_id, attributes=link.attributes)
    if link.service:
        out |= {"service": link.service, "name": link.name, "start": rfc3339(link.time_ns)}
    return out


def normalise_kind(value: str) -> str:
    """`SPAN_KIND_SERVER` and `Server` both read as `Server`."""
    return _KINDS.get(value, value or "Unspecified")


def normalise_status(value: str) -> str:
    """`STATUS_CODE_ERROR` and `Error` both read as `Error`."""
    return _STATUSES.get(value, value or "Unset")
