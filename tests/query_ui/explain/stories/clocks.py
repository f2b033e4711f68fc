"""Clocks are not causality; who held the lock; the classic cases of the first explainer."""

from __future__ import annotations

from tests.query_ui.explain import scenarios
from tests.query_ui.explain.scenarios import Builder
from tests.query_ui.explain.stories import Cause, Expect, db_call, http_client, http_server


def callee_clock_behind(value: str) -> tuple[Builder, Expect]:
    """The A → B → C cascade with C's clock two seconds behind: C is still the cause."""
    b = scenarios.cascade(value)
    b.shift("payments", -2_000)
    cause = Cause("payments", "POST /charge", "CardDeclined", "card 4242 declined")
    return b, Expect("failed", (cause,))


def consumer_clock_behind(value: str) -> tuple[Builder, Expect]:
    """Loyalty fails in checkout, then a linked consumer fails; its clock is 5 s behind."""
    b = Builder(value)
    t1, t2 = b.trace(), b.trace()
    srv = http_server(b, t1, "checkout", "POST", "/checkout", ms=100)
    b.span(
        t1,
        "add points",
        "checkout",
        parent=srv,
        at=10,
        ms=5,
        kind="Internal",
        status="Error",
        exception=("KeyError", "'tier'"),
    )
    pub = b.span(
        t1,
        "invoices publish",
        "checkout",
        parent=srv,
        at=30,
        ms=2,
        kind="Producer",
        attrs={"messaging.system": "kafka", "messaging.destination.name": "invoices"},
    )
    b.span(
        t2,
        "invoices process",
        "billing",
        at=60,
        ms=10,
        kind="Consumer",
        status="Error",
        links=[pub],
        exception=("billing.TaxServiceDown", "tax service unavailable"),
        attrs={"messaging.system": "kafka", "messaging.destination.name": "invoices"},
    )
    b.shift("billing", -5_000)
    causes = (
        Cause("checkout", "add points", "KeyError"),
        Cause("billing", "invoices process", "TaxServiceDown"),
    )
    return b, Expect("failed", causes)


def timeout_callee_clock_ahead(value: str) -> tuple[Builder, Expect]:
    """Checkout gives up after 1 s; inventory's clock runs 3 s ahead; its query was slow."""
    b = scenarios.timeout_masks_slow_db(value)
    b.shift("inventory", 3_000)
    return b, Expect("failed", (Cause("inventory", "SELECT stock", "SlowCall"),))


def lock_held_by_an_audit(value: str) -> tuple[Builder, Expect]:
    """The reservation's UPDATE waits on the lock that a stock audit (another trace) holds."""
    b = Builder(value)
    audit_trace = b.trace()
    audit = b.span(
        audit_trace, "stock audit", "inventory", at=-300, ms=4_000, kind="Internal", keyed=False
    )
    db_call(
        b,
        audit_trace,
        "inventory",
        "BEGIN EXCLUSIVE",
        system="sqlite",
        parent=audit,
        at=-299,
        ms=1,
        keyed=False,
    )
    db_call(
        b,
        audit_trace,
        "inventory",
        "SELECT sum(available) FROM stock",
        system="sqlite",
        parent=audit,
        at=-298,
        ms=3,
        keyed=False,
    )
    t = b.trace()
    srv = http_server(b, t, "gateway", "POST", "/checkout", ms=2_050, status=504)
    cli = http_client(
        b,
        t,
        "gateway",
        "POST",
        "inventory",
        "/reservations",
        parent=srv,
        at=10,
        ms=2_000,
        status=None,
        exception=("httpx.ReadTimeout", "timed out"),
    )
    res = http_server(b, t, "inventory", "POST", "/reservations", parent=cli, at=12, ms=3_500)
    db_call(
        b,
        t,
        "inventory",
        "UPDATE stock SET available = available - ? WHERE sku = ?",
        system="sqlite",
        parent=res,
        at=14,
        ms=3_400,
    )
    cause = Cause("inventory", "UPDATE", "SlowCall")
    text = ("stock audit", "contention")
    return b, Expect("failed", (cause,), suspects=(("inventory", "stock audit"),), text=text)


def lock_timeout_by_a_batch(value: str) -> tuple[Builder, Expect]:
    """The UPDATE gives up on a lock wait; a nightly batch was updating the same table."""
    b = Builder(value)
    batch_trace = b.trace()
    batch = b.span(
        batch_trace,
        "nightly interest batch",
        "batch",
        at=-60_000,
        ms=120_000,
        kind="Internal",
        keyed=False,
    )
    # Another service, found through the table it names (db.collection.name, semconv).
    db_call(
        b,
        batch_trace,
        "batch",
        "UPDATE accounts SET balance = balance * 1.0001",
        system="mysql",
        parent=batch,
        at=-59_000,
        ms=118_000,
        keyed=False,
        attrs={"db.collection.name": "accounts"},
    )
    t = b.trace()
    srv = http_server(b, t, "accounts", "POST", "/transfers", ms=50_100, status=500)
    db_call(
        b,
        t,
        "accounts",
        "UPDATE accounts SET balance = balance - ? WHERE id = ?",
        system="mysql",
        parent=srv,
        at=20,
        ms=50_000,
        exception=(
            "pymysql.err.OperationalError",
            "(1205, 'Lock wait timeout exceeded; try restarting transaction')",
        ),
    )
    cause = Cause("accounts", "UPDATE", "OperationalError", "Lock wait timeout exceeded")
    return b, Expect("failed", (cause,), suspects=(("batch", "nightly interest batch"),))


def slow_query_no_contention(value: str) -> tuple[Builder, Expect]:
    """A slow query with nobody else on its table at the time: no suspects."""
    b = Builder(value)
    other = b.trace()
    db_call(
        b,
        other,
        "orders",
        "UPDATE orders SET status = 'x'",
        parent=None,
        at=100,
        ms=900,
        keyed=False,
    )
    earlier = b.trace()
    db_call(
        b, earlier, "carts", "DELETE FROM carts WHERE age > 30", at=-50_000, ms=1_000, keyed=False
    )
    t = b.trace()
    srv = http_server(b, t, "checkout", "POST", "/checkout", ms=1_010, status=504)
    cli = http_client(
        b,
        t,
        "checkout",
        "GET",
        "carts",
        "/carts/c-1",
        parent=srv,
        at=5,
        ms=1_000,
        status=None,
        exception=("httpx.ReadTimeout", "timed out"),
    )
    carts = http_server(b, t, "carts", "GET", "/carts/{id}", parent=cli, at=7, ms=5_010)
    db_call(b, t, "carts", "SELECT * FROM carts WHERE id = $1", parent=carts, at=8, ms=5_000)
    return b, Expect("failed", (Cause("carts", "SELECT", "SlowCall"),), suspects=())


def cascade(value: str) -> tuple[Builder, Expect]:
    """A → B → C over HTTP: C raises, B and A answer 500."""
    cause = Cause("payments", "POST /charge", "CardDeclined", "card 4242 declined")
    text = ("card 4242 declined", "charge failed: card declined")
    return scenarios.cascade(value), Expect("failed", (cause,), text=text)


def two_independent(value: str) -> tuple[Builder, Expect]:
    """Loyalty fails in checkout; later the invoice consumer fails on its own."""
    causes = (
        Cause("loyalty", "add points", "KeyError"),
        Cause("billing", "invoices process", "TaxServiceDown"),
    )
    return scenarios.two_independent(value), Expect("failed", causes)


STORIES = (
    callee_clock_behind,
    consumer_clock_behind,
    timeout_callee_clock_ahead,
    lock_held_by_an_audit,
    lock_timeout_by_a_batch,
    slow_query_no_contention,
    cascade,
    two_independent,
)
