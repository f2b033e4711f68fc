"""A saga's compensating action that fails is a problem of its own: a second root cause."""

from __future__ import annotations

from tests.query_ui.explain import scenarios
from tests.query_ui.explain.scenarios import Builder, Span
from tests.query_ui.explain.stories import Cause, Expect, http_client, http_server

COMPENSATION = {"clew.compensation": "true"}


def _reserve_out_of_stock(b: Builder, t: str, srv: Span) -> None:
    cli = http_client(
        b, t, "gateway", "POST", "inventory", "/reservations", parent=srv, at=40, ms=30, status=409
    )
    http_server(
        b,
        t,
        "inventory",
        "POST",
        "/reservations",
        parent=cli,
        at=41,
        ms=28,
        status=409,
        exception=("inventory.OutOfStock", "rare-vinyl: fewer than 1 available"),
    )


def refund_succeeds(value: str) -> tuple[Builder, Expect]:
    """The saga refunds the charge after the reservation failed: one cause, a recovery."""
    b = scenarios.saga_refund(value)
    cause = Cause("inventory", "POST /reserve", "OutOfStock", "sku 17 out of stock")
    return b, Expect("failed", (cause,), text=("Compensated by",))


def refund_refused(value: str) -> tuple[Builder, Expect]:
    """Out of stock, and the refund that should undo the charge is refused: two problems."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "gateway", "POST", "/checkout", ms=200, status=500)
    http_client(b, t, "gateway", "POST", "payments", "/payments", parent=srv, at=5, ms=30)
    _reserve_out_of_stock(b, t, srv)
    cli = http_client(
        b, t, "gateway", "DELETE", "payments", "/payments/o-1", parent=srv, at=80, ms=60, status=500
    )
    http_server(
        b,
        t,
        "payments",
        "DELETE",
        "/payments/{order_id}",
        parent=cli,
        at=81,
        ms=58,
        status=500,
        attrs=COMPENSATION,
        exception=("payments.RefundRefused", "charge ch_9 already settled"),
    )
    causes = (
        Cause("inventory", "POST /reservations", "OutOfStock", "fewer than 1 available"),
        Cause("payments", "DELETE /payments/{order_id}", "RefundRefused", "already settled"),
    )
    return b, Expect("failed", causes, text=("compensating action failed", "stays charged"))


def release_not_released(value: str) -> tuple[Builder, Expect]:
    """The card is declined, and releasing the stock reserved before fails: two problems."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "gateway", "POST", "/checkout", ms=200, status=402)
    cli = http_client(
        b, t, "gateway", "POST", "payments", "/payments", parent=srv, at=40, ms=30, status=402
    )
    http_server(
        b,
        t,
        "payments",
        "POST",
        "/payments",
        parent=cli,
        at=41,
        ms=28,
        status=402,
        exception=("payments.CardDeclined", "card declined"),
    )
    rel = http_client(
        b,
        t,
        "gateway",
        "DELETE",
        "inventory",
        "/reservations/o-1",
        parent=srv,
        at=80,
        ms=60,
        status=500,
    )
    srv_rel = http_server(
        b,
        t,
        "inventory",
        "DELETE",
        "/reservations/{order_id}",
        parent=rel,
        at=81,
        ms=58,
        status=500,
        attrs={"saga.compensation": "true"},
    )
    b.log(
        srv_rel,
        130,
        "ERROR",
        "could not release the reservation",
        **{"exception.type": "sqlite3.OperationalError", "exception.message": "database is locked"},
    )
    causes = (
        Cause("payments", "POST /payments", "CardDeclined", "card declined"),
        Cause("inventory", "DELETE /reservations/{order_id}", "OperationalError", "locked"),
    )
    return b, Expect("failed", causes, text=("compensating action failed", "stays reserved"))


def refund_retried_then_done(value: str) -> tuple[Builder, Expect]:
    """The refund's first attempt fails with 503, its resend succeeds: one problem only."""
    b = Builder(value)
    t = b.trace()
    srv = http_server(b, t, "gateway", "POST", "/checkout", ms=300, status=409)
    http_client(b, t, "gateway", "POST", "payments", "/payments", parent=srv, at=5, ms=30)
    _reserve_out_of_stock(b, t, srv)
    for at, status, resend in ((80, 503, {}), (200, 200, {"http.request.resend_count": "1"})):
        cli = http_client(
            b,
            t,
            "gateway",
            "DELETE",
            "payments",
            "/payments/o-1",
            parent=srv,
            at=at,
            ms=40,
            status=status,
            attrs=resend,
        )
        http_server(
            b,
            t,
            "payments",
            "DELETE",
            "/payments/{order_id}",
            parent=cli,
            at=at + 1,
            ms=38,
            status=status,
            attrs=COMPENSATION,
        )
    cause = Cause("inventory", "POST /reservations", "OutOfStock")
    return b, Expect("failed", (cause,), handled=(("gateway", "DELETE"),))


STORIES = (refund_succeeds, refund_refused, release_not_released, refund_retried_then_done)
