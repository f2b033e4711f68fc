"""GET /api/logs through a real `clew serve`: each filter alone and combined, the LogOut shape,
links' data, records without a trace, and the 422s that name their parameter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.query_ui.logs.corpus import Corpus
from tests.support.clew_server import ClewServer


def logs(server: ClewServer, **params: Any) -> dict[str, Any]:
    params.setdefault("lookback", "2d")
    response = httpx.get(server.ui_url + "/api/logs", params=params, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bodies(server: ClewServer, **params: Any) -> list[str]:
    return [log["body"] for log in logs(server, **params)["logs"]]


def test_every_record_newest_first_in_the_logout_shape(
    served: tuple[ClewServer, Corpus],
) -> None:
    server, corpus = served
    body = logs(server)
    assert set(body) == {"logs", "next_cursor", "stored_traces", "limits"}
    times = [log["time_unix_nano"] for log in body["logs"]]
    assert times == sorted(times, reverse=True) and len(times) == len(corpus.records)
    first = body["logs"][0]
    assert set(first) == {"time", "time_unix_nano", "trace_id", "span_id", "severity",
                          "severity_number", "service", "body", "attributes"}  # fmt: skip
    assert first["time"].endswith("Z") and first["time"].startswith("20")
    assert body["next_cursor"] is None and body["limits"] == []
    assert body["stored_traces"] == [corpus.t1]  # t2's spans never arrived


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"text": "deadlock"}, {"Deadlock detected on accounts while charging",
                                "retrying the charge after a deadlock"}),
        ({"text": "DEADLOCK charge"}, {"retrying the charge after a deadlock"}),
        ({"text": '"detected on accounts"'}, {"Deadlock detected on accounts while charging"}),
        ({"text": "deadlock -retrying"}, {"Deadlock detected on accounts while charging"}),
        ({"text": "alice@example.com"}, {"order ord-1 placed by customer alice@example.com"}),
        ({"text": "ord-2"}, {"card declined for order ord-2"}),
        ({"text": "dead"}, set()),  # words are whole tokens
        ({"severity": "error"}, {"Deadlock detected on accounts while charging",
                                 "cleanup job failed: lock timeout on carts",
                                 "Out of memory: search index gone"}),
        ({"severity": "21"}, {"Out of memory: search index gone"}),
        ({"severity": "FATAL"}, {"Out of memory: search index gone"}),
        ({"service": "cleanup-worker"}, {"cleanup job removed 3 expired carts",
                                         "cleanup job failed: lock timeout on carts"}),
        ({"tag": "job=cleanup"}, {"cleanup job removed 3 expired carts",
                                  "cleanup job failed: lock timeout on carts"}),
        ({"tag": "region=us"}, {"card declined for order ord-2"}),  # a resource attribute
        ({"tag": ["region=eu", "order.id=ord-1"]},
         {"Deadlock detected on accounts while charging"}),
        ({"key_value": "ord-1"}, {"order ord-1 placed by customer alice@example.com",
                                  "Deadlock detected on accounts while charging",
                                  "retrying the charge after a deadlock"}),  # the trace's too
        ({"has_trace": "no", "service": "search"}, {"a line with no severity number",
                                                   "Out of memory: search index gone",
                                                   "query took 3 hours long ago"}),
        ({"has_trace": "yes", "severity": "warn"}, {"Deadlock detected on accounts while charging",
                                                   "retrying the charge after a deadlock"}),
        ({"service": "payments", "severity": "info", "text": "declined", "tag": "region=us"},
         {"card declined for order ord-2"}),
        ({"lookback": "1h", "service": "search"}, {"a line with no severity number",
                                                  "Out of memory: search index gone"}),
    ],
)  # fmt: skip
def test_each_filter_alone_and_combined(
    served: tuple[ClewServer, Corpus], params: dict[str, Any], expected: set[str]
) -> None:
    server, _ = served
    assert set(bodies(server, **params)) == expected


def test_trace_id_and_absolute_range(served: tuple[ClewServer, Corpus]) -> None:
    server, corpus = served
    found = bodies(server, trace_id=corpus.t2.upper())
    assert found == ["card declined for order ord-2", "cache hit for product:42"]
    start = corpus.records[3].time_ns  # 20 minutes ago, as RFC 3339
    first = logs(server, trace_id="", limit=1, start="", end="", lookback="2d")["logs"][0]
    assert first["body"] == "Out of memory: search index gone"
    end = corpus.records[4].time_ns + 1000  # RFC 3339 here has microseconds: round up
    window = logs(server, start=_rfc(start), end=_rfc(end))["logs"]
    assert [log["body"] for log in window] == [corpus.records[4].body, corpus.records[3].body]


def _rfc(ns: int) -> str:
    """Unix ns as RFC 3339 with microseconds, cut down (exact integer arithmetic)."""
    moment = datetime.fromtimestamp(ns // 10**9, tz=UTC).replace(microsecond=ns // 1000 % 10**6)
    return moment.isoformat()


def test_a_record_without_a_severity_number_reads_by_its_text(
    served: tuple[ClewServer, Corpus],
) -> None:
    server, _ = served
    (line,) = [log for log in logs(server)["logs"] if log["body"].startswith("a line with no")]
    assert line["severity_number"] == 0 and line["trace_id"] == ""


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"attr": "job=cleanup"}, "attr"),
        ({"severity": "loud"}, "severity"),
        ({"severity": "99"}, "severity"),
        ({"has_trace": "maybe"}, "has_trace"),
        ({"trace_id": "not-a-trace"}, "trace_id"),
        ({"cursor": "garbage"}, "cursor"),
        ({"lookback": "forever"}, "lookback"),
        ({"start": "yesterday"}, "start"),
        ({"tag": "no-equals-sign"}, "tag"),
        ({"limit": "0"}, "limit"),
        ({"text": "x" * 1001}, "text"),
        ({"key": "customer.id", "key_value": "c-1"}, "key"),
    ],
)
def test_a_bad_or_unknown_parameter_is_a_422_naming_it(
    served: tuple[ClewServer, Corpus], params: dict[str, str], parameter: str
) -> None:
    server, _ = served
    for path in ("/api/logs", "/api/logs/histogram"):
        if path.endswith("histogram") and parameter == "cursor":
            continue
        response = httpx.get(server.ui_url + path, params=params, timeout=60)
        assert response.status_code == 422, (path, response.text)
        assert f"parameter '{parameter}'" in response.json()["detail"]


def test_the_histogram_counts_by_severity(served: tuple[ClewServer, Corpus]) -> None:
    server, _ = served
    response = httpx.get(server.ui_url + "/api/logs/histogram", params={"lookback": "2h"})
    assert response.status_code == 200
    body = response.json()
    buckets = body["buckets"]
    starts = [b["start_unix_nano"] for b in buckets]
    assert starts == sorted(starts) and all(b["start"].endswith("Z") for b in buckets)
    totals: dict[str, int] = {}
    for bucket in buckets:
        for level, n in bucket["counts"].items():
            totals[level] = totals.get(level, 0) + n
    assert totals == {"INFO": 3, "ERROR": 2, "WARN": 1, "DEBUG": 1, "FATAL": 1, "UNSPECIFIED": 1}
    errors = httpx.get(server.ui_url + "/api/logs/histogram",
                       params={"lookback": "2h", "severity": "error"}).json()  # fmt: skip
    assert sum(sum(b["counts"].values()) for b in errors["buckets"]) == 3


def test_context_of_a_line(served: tuple[ClewServer, Corpus]) -> None:
    server, corpus = served
    anchor = corpus.records[2]  # payments WARN in t1
    params = {"at": str(anchor.time_ns), "service": "payments", "trace_id": anchor.trace_id,
              "size": "1"}  # fmt: skip
    response = httpx.get(server.ui_url + "/api/logs/context", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    # One line each side from the service, oldest first, the line itself among them.
    assert [log["body"] for log in body["service"]] == [
        corpus.records[1].body, anchor.body, corpus.records[6].body]  # fmt: skip
    assert [log["body"] for log in body["trace"]] == [r.body for r in corpus.records[:3]]
    assert body["stored_traces"] == [corpus.t1]
    bad = httpx.get(server.ui_url + "/api/logs/context", params={"at": "soon"})
    assert bad.status_code == 422 and "'at'" in bad.json()["detail"]
