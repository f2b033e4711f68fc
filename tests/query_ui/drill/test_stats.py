"""Trace statistics and the flame graph's data, through a real server; `clew trace --stats`."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from click.testing import CliRunner

from clew.query_ui.cli import trace
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story
from clew.query_ui.stats import rows, self_times
from tests.query_ui.drill.traces import Drill

MS = 1_000_000
FIELDS = ["service", "operation", "count", "total_ns", "self_ns", "min_ns", "avg_ns", "max_ns"]


def _row(body: dict[str, Any], service: str, operation: str) -> dict[str, int]:
    found = [r for r in body["rows"] if (r["service"], r["operation"]) == (service, operation)]
    assert len(found) == 1, body
    row: dict[str, int] = found[0]
    return row


def test_stats_has_the_issue_shape_and_self_times(drill_url: str, drill: Drill) -> None:
    body = httpx.get(f"{drill_url}/api/traces/{drill.nested}/stats").json()
    assert body["trace_id"] == drill.nested and body["limits"] == []
    assert all(list(r) == FIELDS for r in body["rows"])
    # nested children cover 10-60 and 90-100 of the root; the async child outlives the root
    assert _row(body, "api", "GET /report")["self_ns"] == 40 * MS
    assert _row(body, "api", "load")["self_ns"] == 20 * MS
    assert _row(body, "mailer", "send")["self_ns"] == 60 * MS
    select = _row(body, "db", "SELECT")
    assert (select["count"], select["total_ns"], select["self_ns"]) == (2, 40 * MS, 40 * MS)
    assert (select["min_ns"], select["avg_ns"], select["max_ns"]) == (10 * MS, 20 * MS, 30 * MS)
    selfs = [r["self_ns"] for r in body["rows"]]
    assert selfs == sorted(selfs, reverse=True)


def _span(span_id: str, parent: str, start_ms: int, ms: int) -> Span:
    return Span("t", span_id, parent, span_id, "s", start_ms * MS, ms * MS)


def test_self_time_of_overlapping_nested_and_outliving_children() -> None:
    spans = [
        _span("root", "", 0, 100),
        _span("x", "root", 0, 50),  # three children overlapping: their union is 0-70
        _span("y", "root", 20, 30),
        _span("z", "root", 40, 30),
        _span("late", "root", 95, 50),  # async: only 95-100 is inside the root
        _span("before", "root", -10, 15),  # a skewed clock: only 0-5 is inside
        _span("empty", "", 0, 0),
    ]
    own = self_times(Story(spans))
    assert own[("t", "root")] == (100 - 70 - 5) * MS
    assert own[("t", "x")] == 50 * MS and own[("t", "empty")] == 0
    assert sum(r.count for r in rows(Story(spans))) == len(spans)


def test_stats_of_an_unknown_trace_is_404(drill_url: str) -> None:
    response = httpx.get(f"{drill_url}/api/traces/{'f' * 32}/stats")
    assert response.status_code == 404 and "no trace with id" in response.json()["detail"]


def test_flame_data_is_compact_and_in_waterfall_order(drill_url: str, drill: Drill) -> None:
    body = httpx.get(f"{drill_url}/api/traces/{drill.b}/flame").json()
    services = [name for name, _ in body["services"]]
    spans = body["spans"]
    assert spans[0][1] == -1 and spans[0][4] == 0 and spans[0][5] == 300 * MS
    assert all(0 <= s[1] < i for i, s in enumerate(spans) if i)  # parents come first
    failed = {(services[s[2]], s[3]) for s in spans if s[6]}
    assert failed == {("frontend", "POST /checkout"), ("payments", "charge")}
    assert all(s[7] in (0, 1) for s in spans)


def test_clew_trace_stats_prints_the_table_and_the_json(drill_url: str, drill: Drill) -> None:
    result = CliRunner().invoke(trace, [drill.nested, "--stats", "--url", drill_url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].split() == [
        "service",
        "operation",
        "count",
        "total",
        "self",
        "min",
        "avg",
        "max",
    ]
    root = next(line for line in lines if "GET /report" in line)
    assert re.split(r"\s{2,}", root.strip())[-5:] == [
        "100 ms",
        "40.0 ms",
        "100 ms",
        "100 ms",
        "100 ms",
    ]
    as_json = CliRunner().invoke(trace, [drill.nested, "--stats", "--json", "--url", drill_url])
    assert json.loads(as_json.output)["rows"][0]["service"] == "mailer"


def test_flame_data_agrees_with_the_trace_api(drill_url: str, drill: Drill) -> None:
    for trace_id in (drill.a, drill.b, drill.nested):
        flame = httpx.get(f"{drill_url}/api/traces/{trace_id}/flame").json()["spans"]
        api = httpx.get(f"{drill_url}/api/traces/{trace_id}").json()
        assert [s[0] for s in flame] == [s["span_id"] for s in api["spans"]]  # waterfall order
        assert [bool(s[6]) for s in flame] == [s["failed"] for s in api["spans"]]
        assert {s[0] for s in flame if s[7]} == set(api["critical_path"])
