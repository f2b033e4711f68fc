"""Hand-built stories, one per explainer scenario; the unit tests explain them directly and the
store tests write the same spans and logs into chDB and diagnose them from there."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from clew.query_ui.read.model import Event, Link, LogRecord, Span
from clew.query_ui.read.story import Story

MS = 1_000_000
SEVERITY = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}
# An hour ago, so that stored rows are well inside the retention window.
T0 = (time.time_ns() - 3_600 * 1_000_000_000) // MS * MS
# Ids of their own range: scenarios written into a store next to the shop (tests/query_ui/
# traces.py counts from 1) must not add spans to the shop's traces.
_ids = itertools.count(0x5CE0_0000_0001)


@dataclass
class Builder:
    """Builds a story span by span; every span carries the business key unless told not to."""

    value: str
    key: str = "order.id"
    spans: list[Span] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)

    def trace(self) -> str:
        return f"{next(_ids):032x}"

    def span(
        self,
        trace: str,
        name: str,
        service: str,
        *,
        parent: Span | None = None,
        at: float = 0.0,
        ms: float = 10.0,
        kind: str = "Server",
        status: str = "Unset",
        message: str = "",
        attrs: Mapping[str, str] | None = None,
        exception: tuple[str, str] | None = None,
        raised_at: float | None = None,
        links: Sequence[Span] = (),
        keyed: bool = True,
    ) -> Span:
        start, duration = T0 + int(at * MS), int(ms * MS)
        attributes = {self.key: self.value} if keyed else {}
        attributes.update(attrs or {})
        raised = start + duration if raised_at is None else T0 + int(raised_at * MS)
        events = () if exception is None else (_exception(raised, *exception),)
        span = Span(
            trace_id=trace,
            span_id=f"{next(_ids):016x}",
            parent_span_id=parent.span_id if parent else "",
            name=name,
            service=service,
            start_ns=start,
            duration_ns=duration,
            kind=kind,
            status=status,
            status_message=message,
            attributes=attributes,
            events=events,
            links=tuple(Link(s.trace_id, s.span_id) for s in links),
            resource={"service.name": service, "host.name": f"{service}-1"},
            scope="tests.explain",
        )
        self.spans.append(span)
        return span

    def log(self, span: Span, at: float, severity: str, body: str, **attrs: str) -> LogRecord:
        record = LogRecord(
            time_ns=T0 + int(at * MS),
            trace_id=span.trace_id,
            span_id=span.span_id,
            service=span.service,
            severity_text=severity,
            severity_number=SEVERITY[severity],
            body=body,
            attributes={self.key: self.value, **attrs},
        )
        self.logs.append(record)
        return record

    def story(self) -> Story:
        return Story(self.spans, self.logs, key=self.key, value=self.value)

    def shift(self, service: str | None, ms: float) -> None:
        """Move every span, event and log of `service` (None: of all) by `ms`: a clock that
        runs off, or a whole story moved out of the others' time."""
        delta = int(ms * MS)
        self.spans = [
            replace(s, start_ns=s.start_ns + delta,
                    events=tuple(replace(e, time_ns=e.time_ns + delta) for e in s.events))
            if service in (None, s.service) else s
            for s in self.spans
        ]  # fmt: skip
        self.logs = [
            replace(r, time_ns=r.time_ns + delta) if service in (None, r.service) else r
            for r in self.logs
        ]


def _exception(time_ns: int, error_type: str, message: str) -> Event:
    attributes = {
        "exception.type": error_type,
        "exception.message": message,
        "exception.stacktrace": f'Traceback:\n  File "app.py", line 7\n{error_type}: {message}',
    }
    return Event("exception", time_ns, attributes)


def http(status: int) -> dict[str, str]:
    return {"http.response.status_code": str(status), "http.request.method": "POST"}


def cascade(value: str = "o-cascade") -> Builder:
    """A → B → C over HTTP: C raises, B and A answer 500."""
    b = Builder(value)
    t = b.trace()
    a_srv = b.span(t, "POST /checkout", "frontend", ms=50, status="Error", attrs=http(500))
    a_cli = b.span(
        t,
        "POST",
        "frontend",
        parent=a_srv,
        at=5,
        ms=40,
        kind="Client",
        status="Error",
        attrs=http(500),
    )
    b_srv = b.span(
        t, "POST /orders", "orders", parent=a_cli, at=6, ms=38, status="Error", attrs=http(500)
    )
    b_cli = b.span(
        t,
        "POST",
        "orders",
        parent=b_srv,
        at=8,
        ms=30,
        kind="Client",
        status="Error",
        attrs=http(500),
    )
    c_srv = b.span(
        t,
        "POST /charge",
        "payments",
        parent=b_cli,
        at=9,
        ms=28,
        status="Error",
        message="CardDeclined: card 4242 declined",
        attrs=http(500),
        exception=("payments.CardDeclined", "card 4242 declined"),
    )
    b.span(
        t,
        "SELECT cards",
        "payments",
        parent=c_srv,
        at=10,
        ms=3,
        kind="Client",
        attrs={
            "db.system.name": "postgresql",
            "db.query.text": "SELECT * FROM cards WHERE id = $1",
        },
    )
    b.log(
        c_srv,
        36,
        "ERROR",
        "charge failed: card declined",
        **{"exception.type": "payments.CardDeclined"},
    )
    b.log(c_srv, 35, "WARN", "card 4242 flagged by fraud check")
    b.log(a_srv, 49, "ERROR", "checkout failed")
    return b


def timeout_masks_slow_db(value: str = "o-timeout") -> Builder:
    """checkout gives up on inventory after 1 s; inventory's query takes 5 s and succeeds."""
    b = Builder(value)
    t = b.trace()
    srv = b.span(t, "POST /checkout", "checkout", ms=1_010, status="Error", attrs=http(504))
    cli = b.span(
        t,
        "GET",
        "checkout",
        parent=srv,
        at=5,
        ms=1_000,
        kind="Client",
        status="Error",
        exception=("httpx.ReadTimeout", "timed out"),
    )
    inv = b.span(
        t,
        "GET /stock",
        "inventory",
        parent=cli,
        at=7,
        ms=5_010,
        attrs={"http.response.status_code": "200"},
    )
    b.span(
        t,
        "SELECT stock",
        "inventory",
        parent=inv,
        at=8,
        ms=5_000,
        kind="Client",
        attrs={
            "db.system": "postgresql",
            "db.statement": "SELECT qty FROM stock WHERE sku = ANY($1) FOR UPDATE",
        },
    )
    b.span(
        t,
        "GET /auth",
        "checkout",
        parent=srv,
        at=1,
        ms=2,
        kind="Client",
        attrs={"http.response.status_code": "200"},
    )
    return b


def consumer_after_checkout(
    value: str = "o-consumer", keyed_consumer: bool = False, same_trace: bool = False
) -> Builder:
    """checkout answers 200 and publishes; the shipping consumer fails.

    The consumer starts its own trace linked to the producer span, or with `same_trace`
    continues the producer's trace as its child (what clew's aiokafka instrumentation does).
    """
    b = Builder(value)
    t1 = b.trace()
    t2 = t1 if same_trace else b.trace()
    srv = b.span(
        t1, "POST /checkout", "checkout", ms=30, attrs={"http.response.status_code": "200"}
    )
    pub = b.span(
        t1,
        "orders publish",
        "checkout",
        parent=srv,
        at=20,
        ms=2,
        kind="Producer",
        attrs={"messaging.system": "kafka", "messaging.destination.name": "orders"},
    )
    con = b.span(
        t2,
        "orders process",
        "shipping",
        at=200,
        ms=40,
        kind="Consumer",
        status="Error",
        parent=pub if same_trace else None,
        links=[] if same_trace else [pub],
        keyed=keyed_consumer,
        exception=("sqlalchemy.exc.IntegrityError", "duplicate key"),
        attrs={"messaging.system": "kafka", "messaging.destination.name": "orders"},
    )
    db = b.span(
        t2,
        "INSERT shipments",
        "shipping",
        parent=con,
        at=210,
        ms=5,
        kind="Client",
        status="Error",
        keyed=keyed_consumer,
        exception=(
            "sqlalchemy.exc.IntegrityError",
            "duplicate key value violates unique constraint",
        ),
        attrs={
            "db.system": "postgresql",
            "db.statement": "INSERT INTO shipments (order_id) VALUES ($1)",
        },
    )
    b.log(db, 214, "ERROR", "could not create shipment")
    return b


def retry_then_success(value: str = "o-retry") -> Builder:
    """checkout calls payments twice: the first attempt fails with 503, the second succeeds."""
    b = Builder(value)
    t = b.trace()
    srv = b.span(
        t, "POST /checkout", "checkout", ms=300, attrs={"http.response.status_code": "200"}
    )
    first = b.span(
        t,
        "POST",
        "checkout",
        parent=srv,
        at=5,
        ms=20,
        kind="Client",
        status="Error",
        attrs=http(503),
    )
    p1 = b.span(
        t,
        "POST /pay",
        "payments",
        parent=first,
        at=6,
        ms=18,
        status="Error",
        attrs=http(503),
        exception=("PoolTimeout", "connection pool exhausted"),
    )
    b.log(p1, 20, "ERROR", "no database connection")
    second = b.span(
        t,
        "POST",
        "checkout",
        parent=srv,
        at=130,
        ms=20,
        kind="Client",
        attrs={**http(201), "http.request.resend_count": "1"},
    )
    b.span(
        t,
        "POST /pay",
        "payments",
        parent=second,
        at=131,
        ms=18,
        attrs={"http.response.status_code": "201"},
    )
    return b


def swallowed_error(value: str = "o-swallowed") -> Builder:
    """Everything answers 200, but sending the confirmation failed and was only logged at ERROR."""
    b = Builder(value)
    t = b.trace()
    srv = b.span(
        t, "POST /checkout", "checkout", ms=100, attrs={"http.response.status_code": "200"}
    )
    mail = b.span(t, "send confirmation", "checkout", parent=srv, at=50, ms=30, kind="Internal")
    b.log(mail, 60, "WARN", "smtp slow to answer")
    b.log(
        mail,
        79,
        "ERROR",
        "could not send confirmation: connection refused",
        **{"exception.type": "smtplib.SMTPConnectError"},
    )
    b.log(srv, 90, "INFO", "order accepted")
    return b


def two_independent(value: str = "o-two") -> Builder:
    """Loyalty points fail during checkout, and later the invoice consumer fails on its own."""
    b = Builder(value)
    t1, t2 = b.trace(), b.trace()
    # The later failure is built first, so order of input cannot fake order of output.
    b.span(
        t2,
        "invoices process",
        "billing",
        at=900,
        ms=10,
        kind="Consumer",
        status="Error",
        exception=("billing.TaxServiceDown", "tax service unavailable"),
    )
    srv = b.span(
        t1, "POST /checkout", "checkout", ms=100, attrs={"http.response.status_code": "200"}
    )
    b.span(
        t1,
        "add points",
        "loyalty",
        parent=srv,
        at=20,
        ms=5,
        kind="Internal",
        status="Error",
        exception=("KeyError", "'tier'"),
    )
    return b


def saga_refund(value: str = "o-saga") -> Builder:
    """The saga charges the card, stock reservation fails, the saga refunds the charge."""
    b = Builder(value)
    t = b.trace()
    saga = b.span(t, "place order", "orders", ms=400, kind="Internal")
    b.span(t, "POST /charge", "payments", parent=saga, at=10, ms=30)
    reserve = b.span(
        t,
        "POST",
        "orders",
        parent=saga,
        at=50,
        ms=40,
        kind="Client",
        status="Error",
        attrs=http(500),
    )
    b.span(
        t,
        "POST /reserve",
        "inventory",
        parent=reserve,
        at=52,
        ms=35,
        status="Error",
        attrs=http(500),
        exception=("inventory.OutOfStock", "sku 17 out of stock"),
    )
    refund = b.span(
        t,
        "refund payment",
        "orders",
        parent=saga,
        at=100,
        ms=60,
        kind="Internal",
        attrs={"saga.compensation": "true"},
    )
    b.span(t, "POST /refunds", "payments", parent=refund, at=110, ms=40)
    b.log(refund, 101, "WARN", "compensating: refunding the charge of the cancelled order")
    return b
