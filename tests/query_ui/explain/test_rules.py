"""Each rule on its own, over hand-built stories."""

from __future__ import annotations

from clew.query_ui.explain.compensation import compensation, is_compensation
from clew.query_ui.explain.describe import is_timeout
from clew.query_ui.explain.echo import echo
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.originating import originating
from clew.query_ui.explain.propagation import propagated
from clew.query_ui.explain.retry import retried
from clew.query_ui.explain.rules import RULES, apply
from clew.query_ui.explain.timeout import slow_call, timeout
from clew.query_ui.read.model import Span
from tests.query_ui.explain import scenarios
from tests.query_ui.explain.scenarios import Builder, http


def _about(findings: list[Finding], kind: str) -> list[tuple[str, str]]:
    return [(f.span.service, f.span.name) for f in findings if f.kind == kind]


def test_propagated_marks_every_failed_caller_as_cascade_of_the_next_hop_down() -> None:
    story = scenarios.cascade().story()
    findings = propagated(story)
    assert ("payments", "POST /charge") not in _about(findings, "cascade")
    assert _about(findings, "cascade") == [
        ("frontend", "POST /checkout"),
        ("frontend", "POST"),
        ("orders", "POST /orders"),
        ("orders", "POST"),
    ]
    by_span = {f.span.service + f.span.name: f for f in findings}
    related = by_span["ordersPOST"].related
    assert related is not None and related.name == "POST /charge"
    assert "after payments 'POST /charge' failed" in by_span["ordersPOST"].reason


def test_propagated_does_not_cross_from_a_producer_into_its_consumer() -> None:
    b = Builder("o-async")
    t = b.trace()
    srv = b.span(t, "POST /checkout", "checkout", status="Error", message="validation failed")
    pub = b.span(t, "orders publish", "checkout", parent=srv, kind="Producer")
    b.span(t, "orders process", "shipping", parent=pub, at=100, kind="Consumer", status="Error")
    assert propagated(b.story()) == []


def test_timeout_points_at_the_slow_query_that_did_not_fail() -> None:
    story = scenarios.timeout_masks_slow_db().story()
    findings = timeout(story)
    assert _about(findings, "cause") == [("inventory", "SELECT stock")]
    assert _about(findings, "cascade") == [("checkout", "GET")]
    assert "still running" in findings[0].reason


def test_a_timeout_with_nothing_below_says_the_call_left_no_span() -> None:
    b = Builder("o-unseen")
    cli = b.span(b.trace(), "GET", "checkout", ms=1_000, kind="Client",
                 exception=("httpx.ReadTimeout", "timed out"))  # fmt: skip
    findings = timeout(b.story())
    assert [(f.kind, f.span) for f in findings] == [("cause", cli)]
    assert "no span of what it waited for has arrived" in findings[0].reason


def test_grpc_deadline_exceeded_is_a_timeout() -> None:
    b = Builder("o-grpc")
    span = b.span(b.trace(), "Stock/Get", "checkout", kind="Client", status="Error",
                  attrs={"rpc.grpc.status_code": "4"})  # fmt: skip
    assert is_timeout(b.story(), span)


def test_timeout_without_a_slow_call_below_is_left_to_the_later_rules() -> None:
    b = Builder("o-t")
    t = b.trace()
    cli = b.span(t, "GET", "checkout", ms=1_000, kind="Client", exception=("TimeoutError", "x"))
    b.span(t, "GET /quick", "inventory", parent=cli, at=1, ms=5)
    story = b.story()
    assert slow_call(story, cli) is None
    assert timeout(story) == []


def test_retried_lists_the_failed_attempt_and_everything_under_it() -> None:
    story = scenarios.retry_then_success().story()
    findings = retried(story)
    assert _about(findings, "retried") == [("checkout", "POST"), ("payments", "POST /pay")]
    assert _about(findings, "recovery") == [("checkout", "POST")]
    recovery = next(f for f in findings if f.kind == "recovery")
    assert recovery.span.attributes["http.request.resend_count"] == "1"


def test_a_redelivered_message_that_succeeds_makes_good_the_failed_delivery() -> None:
    b = Builder("o-redelivery")
    pub = b.span(b.trace(), "orders publish", "checkout", kind="Producer")
    offset = {"messaging.kafka.message.offset": "7"}
    for at, status in ((10, "Error"), (500, "Unset")):
        b.span(
            b.trace(),
            "orders process",
            "shipping",
            at=at,
            kind="Consumer",
            status=status,
            links=[pub],
            attrs=offset,
        )
    other = {"messaging.kafka.message.offset": "8"}
    b.span(
        b.trace(),
        "orders process",
        "shipping",
        at=900,
        kind="Consumer",
        status="Error",
        links=[pub],
        attrs=other,
    )
    findings = retried(b.story())
    assert [f.span.start_ns for f in findings if f.kind == "retried"] == [b.spans[1].start_ns]


def test_a_failure_after_the_last_success_is_not_retried() -> None:
    b = Builder("o-r")
    t = b.trace()
    srv = b.span(t, "POST /checkout", "checkout", ms=300)
    b.span(t, "POST", "checkout", parent=srv, at=5, kind="Client")
    b.span(t, "POST", "checkout", parent=srv, at=50, kind="Client", status="Error")
    assert retried(b.story()) == []


def test_compensation_by_attribute_or_by_name() -> None:
    b = Builder("o-c")
    t = b.trace()
    by_attr = b.span(t, "undo reservation", "orders", attrs={"clew.compensation": "true"})
    child = b.span(t, "refund card", "payments", parent=by_attr)
    by_name = b.span(t, "Compensate shipping", "orders", at=5)
    plain = b.span(t, "charge", "payments", at=9)
    assert [is_compensation(s) for s in (by_attr, child, by_name, plain)] == [
        True,
        True,
        True,
        False,
    ]
    # A compensation's own steps are part of it, not separate recoveries.
    assert [f.span for f in compensation(b.story())] == [by_attr, by_name]


def test_originating_reports_every_failed_span_with_its_signals() -> None:
    story = scenarios.swallowed_error().story()
    findings = originating(story)
    assert _about(findings, "cause") == [("checkout", "send confirmation")]
    assert "could not send confirmation" in findings[0].reason


def test_rules_order_puts_compensation_first_and_originating_last() -> None:
    names = [rule.__name__ for rule in RULES]
    assert names[0] == "compensation" and names[-1] == "originating"
    assert names.index("retried") < names.index("propagated")
    assert names.index("timeout") < names.index("propagated")


def test_apply_keeps_the_first_finding_for_each_span() -> None:
    story = scenarios.cascade().story()
    findings = apply(story)
    spans: list[Span] = [f.span for f in findings]
    assert len(spans) == len(set(s.ref for s in spans))
    assert _about(findings, "cause") == [("payments", "POST /charge")]


def test_echo_marks_a_span_that_only_reports_its_parents_failed_response() -> None:
    b = Builder("o-echo")
    t = b.trace()
    srv = b.span(t, "POST /pay", "payments", ms=20, status="Error", attrs=http(500),
                 exception=("ValueError", "bad"))  # fmt: skip
    start = b.span(t, "POST /pay http send", "payments", parent=srv, at=19, ms=1,
                   kind="Internal", status="Error", attrs=http(500))  # fmt: skip
    body = b.span(t, "POST /pay http send", "payments", parent=srv, at=19.5, ms=0.2,
                  kind="Internal")  # fmt: skip
    cli = b.span(t, "GET", "payments", parent=srv, at=2, ms=3, kind="Client", attrs=http(500))
    story = b.story()
    assert [(f.span, f.related) for f in echo(story)] == [(start, srv)]
    # Neither the echo nor its sibling is a retry pair, and the echo explains nothing.
    assert retried(story) == []
    assert [f.span for f in propagated(story)] == [srv]
    assert next(f for f in propagated(story)).related == cli
    assert body not in [f.span for f in apply(story)]


def test_a_failure_after_the_spans_own_in_the_same_service_does_not_explain_it() -> None:
    b = Builder("o-late")
    t = b.trace()
    srv = b.span(t, "POST /pay", "payments", ms=20, exception=("ValueError", "bad"), raised_at=15)
    b.span(t, "audit", "payments", parent=srv, at=16, ms=1, kind="Internal", status="Error")
    assert propagated(b.story()) == []
    assert len([f for f in apply(b.story()) if f.kind == "cause"]) == 2


def test_timeout_follows_what_was_running_when_the_caller_gave_up() -> None:
    b = Builder("o-running")
    t = b.trace()
    cli = b.span(t, "GET", "checkout", ms=300, kind="Client", exception=("ReadTimeout", "x"))
    srv = b.span(t, "GET /stock", "inventory", parent=cli, at=1, ms=900)
    query = b.span(t, "SELECT", "inventory", parent=srv, at=2, ms=880, kind="Client")
    b.span(t, "http send", "inventory", parent=srv, at=895, ms=5, kind="Internal")
    assert slow_call(b.story(), cli) == query


def _two_calls(first: dict[str, str], second: dict[str, str]) -> list[Finding]:
    """A failed client call, then one that succeeded, under the same parent."""
    b = Builder("o-hosts")
    t = b.trace()
    srv = b.span(t, "POST /checkout", "checkout", ms=300)
    method = {"http.request.method": "POST"}
    b.span(t, "POST", "checkout", parent=srv, at=5, kind="Client", status="Error",
           attrs=method | first)  # fmt: skip
    b.span(t, "POST", "checkout", parent=srv, at=50, kind="Client", attrs=method | second)
    return retried(b.story())


def test_calls_to_different_hosts_are_not_a_retry() -> None:
    for attribute in ("server.address", "url.full", "net.peer.name"):
        assert _two_calls({attribute: "payments-a"}, {attribute: "payments-b"}) == [], attribute
    port = _two_calls({"server.address": "pay", "server.port": "8080"},
                      {"server.address": "pay", "server.port": "8081"})  # fmt: skip
    assert port == []
    paths = _two_calls({"server.address": "pay", "url.path": "/charge"},
                       {"server.address": "pay", "url.path": "/refund"})  # fmt: skip
    assert paths == []


def test_the_same_call_to_the_same_host_is_a_retry() -> None:
    same = {"server.address": "payments", "server.port": "443", "url.path": "/charge"}
    findings = _two_calls(same, dict(same))
    assert [f.kind for f in findings] == ["recovery", "retried"]
    full = {"url.full": "https://payments/charge?id=7"}
    assert [f.kind for f in _two_calls(full, dict(full))] == ["recovery", "retried"]
