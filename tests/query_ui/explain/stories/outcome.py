"""The outcome decides the status: handled errors leave an order succeeded, async steps count."""

from __future__ import annotations

from tests.query_ui.explain import scenarios
from tests.query_ui.explain.scenarios import Builder
from tests.query_ui.explain.stories import Cause, Expect, db_call, http_client, http_server

KAFKA = {"messaging.system": "kafka", "messaging.destination.name": "shipments"}


def good_order(value: str) -> tuple[Builder, Expect]:
    """Everything answers 2xx."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "checkout", "POST", "/checkout", ms=60)
    cli = http_client(
        b, t, "checkout", "POST", "orders", "/orders", parent=srv, at=5, ms=40, status=201
    )
    orders = http_server(b, t, "orders", "POST", "/orders", parent=cli, at=6, ms=38, status=201)
    db_call(b, t, "orders", "INSERT INTO orders VALUES ($1, $2)", parent=orders, at=10, ms=4)
    return b, Expect("succeeded", handled=())


def cache_fallback(value: str) -> tuple[Builder, Expect]:
    """The cache read times out, the service reads the database instead and answers 200."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "catalog", "GET", "/products/{sku}", ms=260)
    cache = b.span(
        t,
        "GET",
        "catalog",
        parent=srv,
        at=2,
        ms=200,
        kind="Client",
        status="Error",
        attrs={"db.system.name": "redis", "db.operation.name": "GET", "server.address": "cache"},
        exception=("redis.exceptions.TimeoutError", "Timeout reading from cache:6379"),
    )
    b.log(srv, 203, "WARN", "cache timed out; reading the database")
    db_call(b, t, "catalog", "SELECT * FROM products WHERE sku = $1", parent=srv, at=205, ms=20)
    del cache
    return b, Expect(
        "succeeded",
        handled=(("catalog", "GET"),),
        text=("Handled", "TimeoutError", "Timeout reading from cache:6379"),
    )


def cache_fallback_fails_too(value: str) -> tuple[Builder, Expect]:
    """The cache times out and the database fallback fails as well: the order fails."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "catalog", "GET", "/products/{sku}", ms=260, status=500)
    b.span(
        t,
        "GET",
        "catalog",
        parent=srv,
        at=2,
        ms=200,
        kind="Client",
        status="Error",
        attrs={"db.system.name": "redis", "db.operation.name": "GET"},
        exception=("redis.exceptions.TimeoutError", "Timeout reading from cache:6379"),
    )
    db_call(
        b,
        t,
        "catalog",
        "SELECT * FROM products WHERE sku = $1",
        parent=srv,
        at=205,
        ms=20,
        exception=("psycopg.OperationalError", "connection refused"),
    )
    cause = Cause("catalog", "SELECT", "OperationalError", "connection refused")
    return b, Expect("failed", (cause,), handled=(("catalog", "GET"),))


def retried_then_succeeded(value: str) -> tuple[Builder, Expect]:
    """The payment call fails with 503 and its retry succeeds."""
    b = scenarios.retry_then_success(value)
    return b, Expect("succeeded", handled=(("checkout", "POST"),), text=("retried",))


def resent_to_an_untraced_provider(value: str) -> tuple[Builder, Expect]:
    """The provider's connection times out; the resend (resend_count 1) is answered 200."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "payments", "POST", "/payments", ms=900)
    http_client(
        b,
        t,
        "payments",
        "POST",
        "api.cardprovider.test",
        "/v1/charges",
        parent=srv,
        at=5,
        ms=500,
        status=None,
        exception=("httpx.ConnectTimeout", "timed out connecting"),
    )
    http_client(
        b,
        t,
        "payments",
        "POST",
        "api.cardprovider.test",
        "/v1/charges",
        parent=srv,
        at=700,
        ms=120,
        attrs={"http.request.resend_count": "1"},
    )
    return b, Expect("succeeded", handled=(("payments", "POST"),))


def lookup_not_found_is_handled(value: str) -> tuple[Builder, Expect]:
    """A loyalty lookup answers 404 (an error on the client span); checkout goes on without it."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "checkout", "POST", "/checkout", ms=80)
    cli = http_client(
        b, t, "checkout", "GET", "loyalty", "/members/cust-9", parent=srv, at=3, ms=10, status=404
    )
    http_server(b, t, "loyalty", "GET", "/members/{id}", parent=cli, at=4, ms=8, status=404)
    b.log(srv, 14, "INFO", "no loyalty account; no points")
    return b, Expect("succeeded", handled=(("checkout", "GET"),))


def swallowed_error(value: str) -> tuple[Builder, Expect]:
    """Sending the confirmation failed and was logged at ERROR: not handled, a failure."""
    b = scenarios.swallowed_error(value)
    cause = Cause("checkout", "send confirmation", "SMTPConnectError", "connection refused")
    return b, Expect("failed", (cause,), handled=())


def declined_with_a_4xx(value: str) -> tuple[Builder, Expect]:
    """The request that carried the order answered 402: a failed outcome without any 5xx."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "gateway", "POST", "/checkout", ms=90, status=402)
    cli = http_client(
        b, t, "gateway", "POST", "payments", "/payments", parent=srv, at=5, ms=70, status=402
    )
    pay = http_server(
        b,
        t,
        "payments",
        "POST",
        "/payments",
        parent=cli,
        at=6,
        ms=68,
        status=402,
        exception=("payments.CardDeclined", "card ending 0002 declined"),
    )
    b.log(pay, 70, "WARN", "card declined", **{"exception.type": "payments.CardDeclined"})
    cause = Cause("payments", "POST /payments", "CardDeclined", "card ending 0002 declined")
    return b, Expect("failed", (cause,), text=("card ending 0002 declined",))


def consumer_failed_after_200(value: str) -> tuple[Builder, Expect]:
    """Checkout answered 200; the shipping consumer failed: the order failed."""
    b = scenarios.consumer_after_checkout(value)
    cause = Cause("shipping", "INSERT shipments", "IntegrityError", "duplicate key value")
    return b, Expect("failed", (cause,), text=("topic orders",))


def outbox_relay_failed(value: str) -> tuple[Builder, Expect]:
    """The order was confirmed (200) but the outbox relay never published its message."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "orders", "POST", "/orders/{id}/confirm", ms=30)
    pub = b.span(
        t,
        "shipments publish",
        "orders",
        parent=srv,
        at=1_000,
        ms=5_000,
        kind="Producer",
        status="Error",
        attrs=KAFKA,
        exception=("aiokafka.errors.KafkaTimeoutError", "no broker available"),
    )
    b.log(pub, 6_000, "ERROR", "outbox message not published", topic="shipments")
    cause = Cause("orders", "shipments publish", "KafkaTimeoutError", "no broker available")
    return b, Expect("failed", (cause,), text=("topic shipments",))


STORIES = (
    good_order,
    cache_fallback,
    cache_fallback_fails_too,
    retried_then_succeeded,
    resent_to_an_untraced_provider,
    lookup_not_found_is_handled,
    swallowed_error,
    declined_with_a_4xx,
    consumer_failed_after_200,
    outbox_relay_failed,
)
