"""Comparing two traces and two orders, and finding the nearest succeeded order, through a
real server: the API's shape, the page, the redirect from the order page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.query_ui.drill.traces import Drill

MS = 1_000_000
ROOT = ["frontend", "POST /checkout"]
PAY = [ROOT, ["payments", "charge"]]


def _by_path(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {" > ".join(f"{s} {o}" for s, o in e["path"]): e for e in entries}


def test_compare_two_traces_finds_the_known_differences(drill_url: str, drill: Drill) -> None:
    body = httpx.get(f"{drill_url}/api/compare", params={"a": drill.a, "b": drill.b}).json()
    assert {"a", "b", "only_a", "only_b", "both"} <= set(body)
    assert [e["path"] for e in body["only_a"]] == [[ROOT, ["inventory", "reserve"]]]
    assert [e["path"] for e in body["only_b"]] == [[ROOT, ["mailer", "alert"]]]
    both = _by_path(body["both"])
    assert set(both) == {
        "frontend POST /checkout",
        "frontend POST /checkout > payments charge",
        "frontend POST /checkout > payments charge > postgres UPDATE accounts",
    }
    pay = both["frontend POST /checkout > payments charge"]
    assert (pay["a_duration_ns"], pay["b_duration_ns"], pay["delta_ns"]) == (
        40 * MS,
        250 * MS,
        210 * MS,
    )
    assert (pay["a_failed"], pay["b_failed"]) == (False, True)
    db = both["frontend POST /checkout > payments charge > postgres UPDATE accounts"]
    assert (db["a_count"], db["b_count"], db["b_duration_ns"]) == (1, 2, 220 * MS)
    assert body["diverged_at"] == {"path": PAY, "reason": "failed_in_b"}
    assert body["a"]["id"] == drill.a and body["b"]["failed_count"] == 2
    assert body["b"]["critical_path"][:2] == [[ROOT], PAY]
    positions = sorted(e["position"] for k in ("only_a", "only_b", "both") for e in body[k])
    assert positions == list(range(5))


def test_compare_the_same_trace_has_no_difference(drill_url: str, drill: Drill) -> None:
    body = httpx.get(f"{drill_url}/api/compare", params={"a": drill.a, "b": drill.a}).json()
    assert body["only_a"] == body["only_b"] == [] and body["diverged_at"] is None
    assert all(e["delta_ns"] == 0 for e in body["both"])


def test_compare_two_orders_by_key(drill_url: str, drill: Drill) -> None:
    a, b = drill.orders["failed"], drill.orders["near_ok"]
    params = {"a": a, "b": b, "key": "order.id"}
    body = httpx.get(f"{drill_url}/api/compare", params=params).json()
    assert body["key"] == "order.id" and (body["a"]["id"], body["b"]["id"]) == (a, b)
    assert [e["operation"] for e in body["only_b"]] == ["confirm"]
    assert body["diverged_at"]["reason"] == "failed_in_a"
    assert body["diverged_at"]["path"][-1] == ["stock", "reserve"]


def test_nearest_succeeded_order_has_the_same_entry_and_is_closest(
    drill_url: str, drill: Drill
) -> None:
    url = f"{drill_url}/api/keys/order.id/{drill.orders['failed']}/nearest-succeeded"
    body = httpx.get(url).json()
    # near_failed is closer but failed; other_entry is closer but starts with another operation
    assert body["match"]["value"] == drill.orders["near_ok"]
    assert body["match"]["trace_id"] == drill.order_traces[drill.orders["near_ok"]]
    assert body["match"]["distance_ns"] == 5_000 * MS
    assert body["entry"] == {"service": "shop", "operation": "POST /orders"}


def test_no_similar_succeeded_order_is_a_404(drill_url: str, drill: Drill) -> None:
    url = f"{drill_url}/api/keys/order.id/{drill.orders['other_entry']}/nearest-succeeded"
    response = httpx.get(url)
    assert response.status_code == 404 and "GET /orders" in response.json()["detail"]


def test_the_order_page_links_to_the_comparison_with_the_nearest_succeeded(
    drill_url: str, drill: Drill
) -> None:
    failed = drill.orders["failed"]
    page = httpx.get(f"{drill_url}/orders/{failed}").text
    assert f"/compare/succeeded?key=order.id&amp;value={failed}" in page
    assert (
        "/compare/succeeded" not in httpx.get(f"{drill_url}/orders/{drill.orders['near_ok']}").text
    )
    hop = httpx.get(f"{drill_url}/compare/succeeded", params={"value": failed})
    assert hop.status_code == 303
    target = urlsplit(hop.headers["location"])
    assert target.path == "/compare"
    assert parse_qs(target.query) == {
        "key": ["order.id"],
        "a": [failed],
        "b": [drill.orders["near_ok"]],
    }
    page = httpx.get(f"{drill_url}{hop.headers['location']}").text
    assert "They part ways at" in page and "stock reserve (failed in A only)" in page


def test_the_compare_page_shows_both_sides(drill_url: str, drill: Drill) -> None:
    page = httpx.get(f"{drill_url}/compare", params={"a": drill.a, "b": drill.b}).text
    assert page.count('data-kind="only_a"') == 1 and page.count('data-kind="only_b"') == 1
    assert "payments charge (failed in B only)" in page and "+210 ms" in page
    form = httpx.get(f"{drill_url}/compare")
    assert form.status_code == 200 and 'id="compare-form"' in form.text


def test_bad_compare_arguments_are_named(drill_url: str, drill: Drill) -> None:
    missing = httpx.get(f"{drill_url}/api/compare", params={"a": drill.a})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["query", "b"]
    long = httpx.get(f"{drill_url}/api/compare", params={"a": drill.a, "b": "x" * 600})
    assert long.status_code == 422 and long.json()["detail"][0]["loc"] == ["query", "b"]
    unknown = httpx.get(f"{drill_url}/api/compare", params={"a": drill.a, "b": "f" * 32})
    assert unknown.status_code == 404
    key = httpx.get(f"{drill_url}/api/compare", params={"a": "1", "b": "2", "key": "user.id"})
    assert key.status_code == 404 and "not a configured business key" in key.json()["detail"]
