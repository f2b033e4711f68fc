"""The explainer's scenario suite: stories of each hard class of failure, each with the diagnosis
an on-call engineer needs (issue 11). test_stories.py sends them through OTLP into a real
`clew serve` and checks every diagnosis against its expectation.

A story is a function returning (Builder, Expect); STORIES lists them all, by class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.query_ui.explain.scenarios import Builder


@dataclass(frozen=True)
class Cause:
    """An expected root cause: where, and (when given) what was raised there."""

    service: str
    name: str
    """The span's raw name."""
    error_type: str = ""
    """The end of the error type (a module prefix may come before it)."""
    message: str = ""
    """A part of the message."""


@dataclass(frozen=True)
class Expect:
    """What the diagnosis of a story must say."""

    status: str
    causes: tuple[Cause, ...] = ()
    handled: tuple[tuple[str, str], ...] | None = None
    """(service, raw span name) listed under "handled", in order; None: not checked."""
    suspects: tuple[tuple[str, str], ...] | None = None
    """(service, raw span name) of the first cause's contention suspects; None: not checked."""
    text: tuple[str, ...] = ()
    """Parts of the text `clew why` prints."""

    def mismatches(self, diagnosis: dict[str, Any], text: str) -> list[str]:
        """What the diagnosis gets wrong; empty when it is right."""
        wrong = []
        if diagnosis["status"] != self.status:
            wrong.append(f"status {diagnosis['status']!r}, expected {self.status!r}")
        found = diagnosis["root_causes"]
        if len(found) != len(self.causes) or not all(
            _is(c, e) for c, e in zip(found, self.causes, strict=False)
        ):
            got = [(c["service"], c["span_name"], c["error_type"], c["message"]) for c in found]
            wrong.append(f"root causes {got}, expected {list(self.causes)}")
        if self.handled is not None:
            got_handled = [(h["service"], h["span_name"]) for h in diagnosis.get("handled", [])]
            if got_handled != list(self.handled):
                wrong.append(f"handled {got_handled}, expected {list(self.handled)}")
        if self.suspects is not None:
            got_suspects = [(s["service"], s["span_name"]) for s in _suspects(found)]
            if got_suspects != list(self.suspects):
                wrong.append(f"suspects {got_suspects}, expected {list(self.suspects)}")
        wrong += [f"the text lacks {part!r}" for part in self.text if part not in text]
        return wrong


def _is(cause: dict[str, Any], expected: Cause) -> bool:
    return (
        (cause["service"], cause["span_name"]) == (expected.service, expected.name)
        and str(cause["error_type"]).endswith(expected.error_type)
        and expected.message in str(cause["message"])
    )


def _suspects(causes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not causes:
        return []
    found = [e for e in causes[0]["evidence"] if e.get("kind") == "contention"]
    return list(found[0]["suspects"]) if found else []


Story = Callable[[str], tuple[Builder, Expect]]
"""A story, given the business key value it is stored under."""


def http_client(
    b: Builder, trace: str, service: str, method: str, peer: str, path: str, **options: Any
) -> Any:
    """A client HTTP span as the httpx instrumentation writes it (4xx and 5xx are errors)."""
    status: int | None = options.pop("status", 200)
    address, _, port = peer.partition(":")
    attrs = {
        "http.request.method": method,
        "server.address": address,
        "url.full": f"http://{peer}{path}",
        **options.pop("attrs", {}),
    }
    if port:
        attrs["server.port"] = port
    if status is not None:
        attrs["http.response.status_code"] = str(status)
    error = status is None or status >= 400 or options.get("exception") is not None
    return b.span(
        trace,
        method,
        service,
        kind="Client",
        status="Error" if error else "Unset",
        attrs=attrs,
        **options,
    )


def http_server(
    b: Builder, trace: str, service: str, method: str, route: str, **options: Any
) -> Any:
    """A server HTTP span as the FastAPI instrumentation writes it (only 5xx are errors)."""
    status: int = options.pop("status", 200)
    attrs = {
        "http.request.method": method,
        "http.route": route,
        "http.response.status_code": str(status),
        **options.pop("attrs", {}),
    }
    error = status >= 500
    return b.span(
        trace,
        f"{method} {route}",
        service,
        status="Error" if error else "Unset",
        attrs=attrs,
        **options,
    )


def db_call(b: Builder, trace: str, service: str, statement: str, **options: Any) -> Any:
    """A database client span as the dbapi instrumentations write it (named by its verb)."""
    attrs = {
        "db.system.name": options.pop("system", "postgresql"),
        "db.query.text": statement,
        **options.pop("attrs", {}),
    }
    failed = options.get("exception") is not None or options.pop("failed", False)
    return b.span(
        trace,
        statement.split()[0],
        service,
        kind="Client",
        status="Error" if failed else "Unset",
        attrs=attrs,
        **options,
    )
