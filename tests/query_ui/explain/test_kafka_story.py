"""A consumer's failure after the request was accepted, from data real services produced.

Reuses the end-to-end run of tests/e2e/test_instrumented_services.py (A → httpx → B → Kafka
→ C, instrumented by clew, exporting to a real `clew serve`): order o-fail is accepted with
202 and fails later in C's Kafka consumer; o-42 goes through.
"""

from __future__ import annotations

from typing import Any

from clew.collector.store import ChdbStore
from clew.query_ui.explain import diagnose
from tests.e2e.test_instrumented_services import stored
from tests.support.clew_server import ClewServer

__all__ = ["stored"]  # the fixture that runs the services and stops clew serve


def test_the_consumer_failure_after_a_202_is_the_root_cause(
    stored: dict[str, list[dict[str, Any]]], clew_server: ClewServer
) -> None:
    store = ChdbStore(clew_server.data_dir)
    try:
        failed = diagnose(store, "order.id", "o-fail").to_dict()
        good = diagnose(store, "order.id", "o-42").to_dict()
    finally:
        store.close()
    assert failed["status"] == "failed"
    [cause] = failed["root_causes"]
    assert (cause["service"], cause["error_type"].rsplit(".", 1)[-1]) == (
        "service-c",
        "PaymentDeclined",
    )
    assert cause["message"] == "payment declined for o-fail"
    kinds = [e["kind"] for e in cause["evidence"]]
    assert "messaging" in kinds and "exception" in kinds
    bodies = [e["body"] for e in cause["evidence"] if e["kind"] == "log"]
    assert "reservation failed" in bodies
    # The request was accepted: nothing in A or B failed because of C.
    assert {c["service"] for c in failed["cascade"]} <= {"service-c"}
    assert good["status"] == "succeeded" and good["root_causes"] == []
