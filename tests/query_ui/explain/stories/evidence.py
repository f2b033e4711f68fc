"""Evidence gathered from every span that holds some; peers that send no spans; Kafka locations."""

from __future__ import annotations

from tests.query_ui.explain.scenarios import Builder
from tests.query_ui.explain.stories import Cause, Expect, db_call, http_client, http_server

STACK = """Traceback (most recent call last):
  File "/app/.venv/lib/python3.12/site-packages/starlette/routing.py", line 74, in app
    response = await f(request)
  File "/app/.venv/lib/python3.12/site-packages/fastapi/routing.py", line 301, in app
    raw_response = await run_endpoint_function(
  File "/app/src/billing/invoices.py", line 42, in charge_invoice
    invoice = load_invoice(invoice_id)
  File "/app/src/billing/invoices.py", line 17, in load_invoice
    raise InvoiceGone(f"invoice {invoice_id} no longer exists")
billing.InvoiceGone: invoice 77 no longer exists"""


def consumer_exception_child_410(value: str) -> tuple[Builder, Expect]:
    """The consumer span holds the exception; its HTTP call below holds the 410: both count."""
    b = Builder(value)
    t = b.trace()
    con = b.span(
        t,
        "invoices.due process",
        "billing",
        kind="Consumer",
        status="Error",
        attrs={
            "messaging.system": "kafka",
            "messaging.destination.name": "invoices.due",
            "messaging.destination.partition.id": "2",
            "messaging.kafka.message.offset": "1187",
            "messaging.consumer.group.name": "billing",
            "messaging.kafka.message.key": value,
        },
        exception=("billing.InvoiceGone", "invoice 77 no longer exists"),
        ms=40,
    )
    b.spans[-1] = _with_stack(b.spans[-1])
    http_client(
        b, t, "billing", "GET", "ledger", "/invoices/77", parent=con, at=5, ms=20, status=410
    )
    cause = Cause("billing", "GET", "InvoiceGone", "invoice 77 no longer exists")
    text = (
        "HTTP 410",
        "invoice 77 no longer exists",
        "partition 2",
        "offset 1187",
        "group billing",
        f"key {value}",
        "invoices.py",
        "line 17",
    )
    return b, Expect("failed", (cause,), text=text)


def _with_stack(span: object) -> object:
    from dataclasses import replace

    from clew.query_ui.read.model import Event, Span

    assert isinstance(span, Span)
    (event,) = span.events
    attributes = {**event.attributes, "exception.stacktrace": STACK}
    return replace(span, events=(Event(event.name, event.time_ns, attributes),))


def consumer_old_semconv(value: str) -> tuple[Builder, Expect]:
    """A consumer that records Kafka's place under the older attribute names."""
    b = Builder(value)
    t = b.trace()
    b.span(
        t,
        "payments.due receive",
        "accounting",
        kind="Consumer",
        ms=15,
        attrs={
            "messaging.system": "kafka",
            "messaging.destination": "payments.due",
            "messaging.kafka.partition": "0",
            "messaging.kafka.offset": "77",
            "messaging.kafka.consumer_group": "accounting",
            "messaging.kafka.message_key": value,
        },
        exception=("decimal.InvalidOperation", "[<class 'decimal.ConversionSyntax'>]"),
    )
    cause = Cause("accounting", "payments.due receive", "InvalidOperation")
    text = ("topic payments.due", "partition 0", "offset 77", "group accounting", f"key {value}")
    return b, Expect("failed", (cause,), text=text)


def server_exception_db_status(value: str) -> tuple[Builder, Expect]:
    """The server span recorded the exception; the database call below holds only a status."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(
        b,
        t,
        "inventory",
        "POST",
        "/reservations",
        ms=40,
        status=500,
        exception=("sqlite3.OperationalError", "database is locked"),
    )
    db_call(
        b,
        t,
        "inventory",
        "UPDATE stock SET available = available - ? WHERE sku = ?",
        system="sqlite",
        parent=srv,
        at=2,
        ms=30,
        failed=True,
    )
    cause = Cause("inventory", "UPDATE", "OperationalError", "database is locked")
    return b, Expect("failed", (cause,), text=("UPDATE stock SET", "database is locked"))


def exception_only_in_a_log(value: str) -> tuple[Builder, Expect]:
    """The failure is an ERROR log whose exception.* attributes hold the real message."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "notify", "POST", "/notifications", ms=30)
    b.log(
        srv,
        20,
        "ERROR",
        "could not notify the customer",
        **{
            "exception.type": "smtplib.SMTPRecipientsRefused",
            "exception.message": "{'a@b.test': (550, b'mailbox unavailable')}",
            "exception.stacktrace": STACK,
        },
    )
    cause = Cause("notify", "POST /notifications", "SMTPRecipientsRefused", "mailbox unavailable")
    return b, Expect("failed", (cause,), text=("mailbox unavailable",))


def untraced_peer_502(value: str) -> tuple[Builder, Expect]:
    """The provider answers 502 and sends no spans: the failure is in that peer."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "payments", "POST", "/payments", ms=300, status=502)
    http_client(
        b,
        t,
        "payments",
        "POST",
        "api.cardprovider.test",
        "/v1/charges",
        parent=srv,
        at=5,
        ms=250,
        status=502,
    )
    cause = Cause("payments", "POST", "502")
    text = ("api.cardprovider.test", "not traced", "POST api.cardprovider.test /v1/charges")
    return b, Expect("failed", (cause,), text=text)


def untraced_peer_refused(value: str) -> tuple[Builder, Expect]:
    """The ledger refuses the connection; no span of it exists."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "billing", "POST", "/invoices", ms=30, status=500)
    http_client(
        b,
        t,
        "billing",
        "POST",
        "ledger.internal:8443",
        "/entries",
        parent=srv,
        at=2,
        ms=3,
        status=None,
        exception=("httpx.ConnectError", "[Errno 111] Connection refused"),
    )
    cause = Cause("billing", "POST", "ConnectError", "Connection refused")
    return b, Expect("failed", (cause,), text=("ledger.internal", "not traced"))


STORIES = (
    consumer_exception_child_410,
    consumer_old_semconv,
    server_exception_db_status,
    exception_only_in_a_log,
    untraced_peer_502,
    untraced_peer_refused,
)
