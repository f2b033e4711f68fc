"""The assembled diagnosis over each scenario's story, without a store."""

from __future__ import annotations

import re
from typing import Any

from clew.query_ui.explain import Diagnosis, explain
from clew.query_ui.read.story import Story
from tests.query_ui.explain import scenarios

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def _causes(diagnosis: Diagnosis) -> list[tuple[str, str]]:
    return [(c.span.service, c.span.name) for c in diagnosis.root_causes]


def _kinds(cause: dict[str, Any]) -> list[str]:
    return [item["kind"] for item in cause["evidence"]]


def test_to_dict_has_the_api_shape() -> None:
    data = explain(scenarios.cascade().story()).to_dict()
    assert list(data) == [
        "key", "value", "status", "root_causes", "cascade", "recoveries", "handled", "traces",
        "logs", "summary", "failed_spans", "limits",
    ]  # fmt: skip
    cause = data["root_causes"][0]
    assert set(cause) == {
        "service", "span_name", "name", "span_id", "trace_id", "error_type", "message",
        "time", "time_unix_nano", "evidence",
    }  # fmt: skip
    assert RFC3339.match(cause["time"])
    assert set(data["cascade"][0]) == {"service", "span_name", "name", "span_id", "reason", "logs"}
    assert all(RFC3339.match(log["time"]) for log in data["logs"])
    assert data["limits"] == []


def test_cascade_up_a_call_chain_blames_the_deepest_failure() -> None:
    diagnosis = explain(scenarios.cascade().story())
    assert diagnosis.status == "failed"
    assert _causes(diagnosis) == [("payments", "POST /charge")]
    cause = diagnosis.to_dict()["root_causes"][0]
    assert (cause["error_type"], cause["message"]) == (
        "payments.CardDeclined",
        "card 4242 declined",
    )
    exception = next(e for e in cause["evidence"] if e["kind"] == "exception")
    assert "Traceback" in exception["stacktrace"]
    logs = [e["body"] for e in cause["evidence"] if e["kind"] == "log"]
    assert logs == ["card 4242 flagged by fraud check", "charge failed: card declined"]
    assert "http" in _kinds(cause)
    assert [c.span.service for c in diagnosis.cascade] == [
        "orders",
        "orders",
        "frontend",
        "frontend",
    ]
    assert "payments 'POST /charge'" in diagnosis.summary


def test_timeout_is_blamed_on_the_slow_database_call() -> None:
    diagnosis = explain(scenarios.timeout_masks_slow_db().story())
    assert _causes(diagnosis) == [("inventory", "SELECT stock")]
    cause = diagnosis.to_dict()["root_causes"][0]
    assert cause["error_type"] == "SlowCall"
    statement = next(e for e in cause["evidence"] if e["kind"] == "db.statement")
    assert statement["statement"].startswith("SELECT qty FROM stock")
    cascade = {(c.span.service, c.span.name): c.reason for c in diagnosis.cascade}
    assert "timed out after 1 s" in cascade[("checkout", "GET")]
    assert ("checkout", "POST /checkout") in cascade


def test_consumer_failure_after_a_successful_checkout_is_found() -> None:
    diagnosis = explain(scenarios.consumer_after_checkout().story())
    assert diagnosis.status == "failed"
    assert _causes(diagnosis) == [("shipping", "INSERT shipments")]
    assert [(c.span.service, c.span.name) for c in diagnosis.cascade] == [
        ("shipping", "orders process")
    ]
    assert len(diagnosis.traces) == 2


def test_consumer_failure_in_the_producers_trace_does_not_fail_the_checkout() -> None:
    diagnosis = explain(scenarios.consumer_after_checkout(same_trace=True).story())
    assert _causes(diagnosis) == [("shipping", "INSERT shipments")]
    assert [(c.span.service, c.span.name) for c in diagnosis.cascade] == [
        ("shipping", "orders process")
    ]
    assert len(diagnosis.traces) == 1


def test_retry_then_success_is_a_success_with_the_retry_as_recovery() -> None:
    diagnosis = explain(scenarios.retry_then_success().story())
    assert diagnosis.status == "succeeded"
    assert diagnosis.root_causes == () and diagnosis.cascade == ()
    assert [(r.kind, r.span.name) for r in diagnosis.recoveries] == [("retry", "POST")]
    assert "made good by a successful retry" in diagnosis.summary
    assert "succeeded: nothing that failed stayed failed in 1 trace(s)" in diagnosis.summary


def test_an_error_swallowed_and_logged_is_the_cause() -> None:
    diagnosis = explain(scenarios.swallowed_error().story())
    assert diagnosis.status == "failed"
    assert _causes(diagnosis) == [("checkout", "send confirmation")]
    cause = diagnosis.root_causes[0]
    assert cause.error_type == "smtplib.SMTPConnectError"
    assert "connection refused" in cause.message
    logs = [e["severity"] for e in cause.evidence if e["kind"] == "log"]
    assert logs == ["WARN", "ERROR"]


def test_two_independent_failures_are_both_reported_earliest_first() -> None:
    diagnosis = explain(scenarios.two_independent().story())
    assert _causes(diagnosis) == [("loyalty", "add points"), ("billing", "invoices process")]
    times = [c.time_ns for c in diagnosis.root_causes]
    assert times == sorted(times)
    assert "2 independent failures" in diagnosis.summary


def test_a_saga_refund_is_a_recovery_not_a_failure() -> None:
    diagnosis = explain(scenarios.saga_refund().story())
    assert _causes(diagnosis) == [("inventory", "POST /reserve")]
    assert [(c.span.service, c.span.name) for c in diagnosis.cascade] == [("orders", "POST")]
    assert [(r.kind, r.span.name) for r in diagnosis.recoveries] == [
        ("compensation", "refund payment")
    ]
    assert "Compensated by orders 'refund payment'" in diagnosis.summary


def test_no_spans_is_unknown() -> None:
    b = scenarios.Builder("o-logs-only")
    span = b.span(b.trace(), "x", "svc")
    b.log(span, 1, "INFO", "hello")
    story = Story([], b.logs, key=b.key, value=b.value)
    diagnosis = explain(story)
    assert diagnosis.status == "unknown"
    assert "unknown" in diagnosis.summary


def test_the_same_failure_on_every_attempt_is_one_cause_seen_several_times() -> None:
    b = scenarios.Builder("o-thrice")
    t = b.trace()
    srv = b.span(t, "POST /checkout", "checkout", ms=300, status="Error")
    for at in (5, 50, 100):
        cli = b.span(t, "POST", "checkout", parent=srv, at=at, kind="Client", status="Error")
        b.span(t, "POST /pay", "payments", parent=cli, at=at + 1, ms=5,
               exception=("PoolTimeout", "pool exhausted"))  # fmt: skip
    diagnosis = explain(b.story())
    assert _causes(diagnosis) == [("payments", "POST /pay")]
    repeated = [e for e in diagnosis.root_causes[0].evidence if e["kind"] == "repeated"]
    assert repeated[0]["count"] == 3
    assert "PoolTimeout: pool exhausted, 3 attempts, all failed, calling POST" in diagnosis.summary
    assert len(diagnosis.cascade) == 4


def test_evidence_has_the_logs_of_the_code_around_a_failed_database_call() -> None:
    b = scenarios.Builder("o-around")
    t = b.trace()
    srv = b.span(t, "POST /pay", "payments", ms=50, status="Error", attrs=scenarios.http(500))
    b.log(srv, 1, "WARN", "before the call: not about it")
    insert = b.span(t, "INSERT", "payments", parent=srv, at=10, ms=5, kind="Client",
                    exception=("IntegrityError", "duplicate"))  # fmt: skip
    b.log(srv, 16, "ERROR", "could not record the payment")
    b.log(srv, 17, "INFO", "not a warning")
    diagnosis = explain(b.story())
    assert [c.span for c in diagnosis.root_causes] == [insert]
    logs = [e["body"] for e in diagnosis.root_causes[0].evidence if e["kind"] == "log"]
    assert logs == ["could not record the payment"]


def test_a_checkout_retried_in_a_new_trace_that_succeeds_is_a_success() -> None:
    b = scenarios.Builder("o-again")
    for at, status in ((0, "500"), (5_000, "200")):
        t = b.trace()
        srv = b.span(
            t, "POST /checkout", "checkout", at=at, ms=40, attrs=scenarios.http(int(status))
        )
        if status == "500":
            b.span(t, "UPDATE stock", "checkout", parent=srv, at=at + 5, ms=5, kind="Client",
                   exception=("Deadlock", "deadlock detected"))  # fmt: skip
    diagnosis = explain(b.story())
    assert diagnosis.status == "succeeded"
    assert [(r.kind, r.span.start_ns) for r in diagnosis.recoveries] == [
        ("retry", b.spans[-1].start_ns)
    ]


def test_a_compensation_without_a_recorded_failure_is_pointed_out() -> None:
    b = scenarios.Builder("o-undo")
    t = b.trace()
    saga = b.span(t, "place order", "orders", ms=100, kind="Internal")
    b.span(t, "compensate reservation", "orders", parent=saga, at=50, ms=10, kind="Internal")
    diagnosis = explain(b.story())
    assert [r.kind for r in diagnosis.recoveries] == ["compensation"]
    assert "No failure was recorded for that compensation to undo." in diagnosis.summary


def test_a_span_stored_twice_counts_once() -> None:
    built = scenarios.cascade("o-twice")
    story = Story(built.spans + built.spans, built.logs, key=built.key, value=built.value)
    assert len(story.spans) == len(built.spans)
    assert _causes(explain(story)) == [("payments", "POST /charge")]
