"""Retries told from repeated work: loops are not retries; all attempts failed is said so."""

from __future__ import annotations

from tests.query_ui.explain.scenarios import Builder
from tests.query_ui.explain.stories import Cause, Expect, db_call, http_client, http_server

PROVIDER = "api.cardprovider.test"


def loop_insert_fails(value: str) -> tuple[Builder, Expect]:
    """One INSERT per order line; the second breaks a constraint, the third still runs."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "orders", "POST", "/orders", ms=80, status=500)
    save = b.span(
        t,
        "save order lines",
        "orders",
        parent=srv,
        at=5,
        ms=60,
        kind="Internal",
        status="Error",
        message="IntegrityError",
    )
    statement = "INSERT INTO order_lines (order_id, sku, qty) VALUES ($1, $2, $3)"
    db_call(b, t, "orders", statement, parent=save, at=10, ms=4)
    db_call(
        b,
        t,
        "orders",
        statement,
        parent=save,
        at=16,
        ms=4,
        exception=("psycopg.errors.UniqueViolation", "duplicate key (order_id, sku)"),
    )
    db_call(b, t, "orders", statement, parent=save, at=22, ms=4)
    cause = Cause("orders", "INSERT", "UniqueViolation", "duplicate key")
    return b, Expect("failed", (cause,), handled=())


def fan_out_one_shard_fails(value: str) -> tuple[Builder, Expect]:
    """A search asks three shards at once; shard 2 fails; the search answers 500."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "search", "GET", "/search", ms=60, status=500)
    for n in (1, 2, 3):
        cli = http_client(
            b,
            t,
            "search",
            "GET",
            f"shard-{n}",
            "/query",
            parent=srv,
            at=2,
            ms=40,
            status=500 if n == 2 else 200,
        )
        error = ("index.CorruptSegment", "segment 17 checksum mismatch") if n == 2 else None
        http_server(
            b,
            t,
            "index",
            "GET",
            "/query",
            parent=cli,
            at=3,
            ms=38,
            status=500 if n == 2 else 200,
            exception=error,
        )
    cause = Cause("index", "GET /query", "CorruptSegment", "checksum mismatch")
    return b, Expect("failed", (cause,))


def loop_of_calls_one_fails(value: str) -> tuple[Builder, Expect]:
    """One reservation call per item; the second item fails, the third succeeds; 500."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "gateway", "POST", "/checkout", ms=200, status=500)
    for n, at in enumerate((10, 60, 110)):
        status = 500 if n == 1 else 200
        cli = http_client(
            b,
            t,
            "gateway",
            "POST",
            "inventory",
            "/reservations",
            parent=srv,
            at=at,
            ms=40,
            status=status,
        )
        error = ("inventory.SkuUnknown", "sku 'poster-xl' unknown") if n == 1 else None
        http_server(
            b,
            t,
            "inventory",
            "POST",
            "/reservations",
            parent=cli,
            at=at + 1,
            ms=38,
            status=status,
            exception=error,
        )
    cause = Cause("inventory", "POST /reservations", "SkuUnknown", "poster-xl")
    return b, Expect("failed", (cause,), handled=())


def backoff_then_success(value: str) -> tuple[Builder, Expect]:
    """Two 503s from the provider, then a 200, with growing gaps between the attempts."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "payments", "POST", "/payments", ms=1_000)
    for at, status in ((5, 503), (160, 503), (560, 200)):
        http_client(
            b,
            t,
            "payments",
            "POST",
            PROVIDER,
            "/v1/charges",
            parent=srv,
            at=at,
            ms=50,
            status=status,
        )
    return b, Expect("succeeded", handled=(("payments", "POST"), ("payments", "POST")))


def all_attempts_failed_untraced(value: str) -> tuple[Builder, Expect]:
    """Three attempts at the card provider (which sends no spans), all 503: 'all failed'."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "gateway", "POST", "/checkout", ms=2_000, status=502)
    cli = http_client(
        b, t, "gateway", "POST", "payments", "/payments", parent=srv, at=2, ms=1_900, status=502
    )
    pay = http_server(b, t, "payments", "POST", "/payments", parent=cli, at=3, ms=1_890, status=502)
    for n, at in enumerate((5, 210, 810)):
        resend = {"http.request.resend_count": str(n)} if n else {}
        http_client(
            b,
            t,
            "payments",
            "POST",
            PROVIDER,
            "/v1/charges",
            parent=pay,
            at=at,
            ms=100,
            status=503,
            attrs=resend,
        )
    cause = Cause("payments", "POST", "503")
    text = ("3 attempts, all failed", PROVIDER, "not traced")
    return b, Expect("failed", (cause,), text=text)


def all_attempts_failed_traced(value: str) -> tuple[Builder, Expect]:
    """Checkout calls payments three times; each time its pool is exhausted."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "checkout", "POST", "/checkout", ms=700, status=503)
    for n, at in enumerate((5, 150, 450)):
        resend = {"http.request.resend_count": str(n)} if n else {}
        cli = http_client(
            b,
            t,
            "checkout",
            "POST",
            "payments",
            "/pay",
            parent=srv,
            at=at,
            ms=40,
            status=503,
            attrs=resend,
        )
        http_server(
            b,
            t,
            "payments",
            "POST",
            "/pay",
            parent=cli,
            at=at + 1,
            ms=38,
            status=503,
            exception=("PoolTimeout", "connection pool exhausted"),
        )
    cause = Cause("payments", "POST /pay", "PoolTimeout", "pool exhausted")
    return b, Expect("failed", (cause,), text=("3 attempts, all failed",))


STORIES = (
    loop_insert_fails,
    fan_out_one_shard_fails,
    loop_of_calls_one_fails,
    backoff_then_success,
    all_attempts_failed_untraced,
    all_attempts_failed_traced,
)
