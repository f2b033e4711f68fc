"""The HTML pages through TestClient over the real store; tests/e2e drives them in Chromium."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clew.collector.store import ChdbStore
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.explain import scenarios
from tests.query_ui.explain.test_store import write
from tests.query_ui.shop import FAILED_ORDER, GOOD_ORDER, HOSTILE, Shop


def test_stored_strings_are_escaped(client: TestClient, shop: Shop) -> None:
    html = client.get(f"/traces/{shop.good_trace}").text
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_unknown_trace_is_a_404_page(client: TestClient) -> None:
    response = client.get("/traces/ffffffffffffffffffffffffffffffff")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "no trace with id" in response.text and "Traceback" not in response.text
    assert client.get("/no/such/page").status_code == 404


def test_trace_page_marks_failure_critical_path_and_missing_parent(
    client: TestClient, shop: Shop
) -> None:
    html = client.get(f"/traces/{shop.failed_trace}").text
    # The deadlocked statement: failed, on the critical path, and the trace's root cause.
    assert f'class="row failed critical root-cause" id="row-{shop.db_span.span_id}"' in html
    assert "psycopg.errors.DeadlockDetected" in html and "topic orders" in html
    assert "in the queue" in html
    broken = client.get(f"/traces/{shop.broken_trace}").text
    assert "Spans are missing" in broken and "00000000deadbeef" in broken


def test_order_and_key_pages(client: TestClient, shop: Shop) -> None:
    html = client.get(f"/orders/{FAILED_ORDER}").text
    assert 'id="diagnosis"' in html and "psycopg.errors.DeadlockDetected" in html
    assert html.count('class="trace-block"') == 2
    good = client.get(f"/keys/order.id/{GOOD_ORDER}")
    assert good.status_code == 200 and "succeeded" in good.text
    missing = client.get("/orders/no-such-order")
    assert missing.status_code == 404 and "nothing was found" in missing.text
    assert client.get(f"/keys/customer.id/{GOOD_ORDER}").status_code == 404


def test_jump_box(client: TestClient, shop: Shop) -> None:
    to_trace = client.get("/go", params={"q": shop.old_trace.upper()}, follow_redirects=False)
    assert to_trace.headers["location"] == f"/traces/{shop.old_trace}"
    to_order = client.get("/go", params={"q": FAILED_ORDER}, follow_redirects=False)
    assert to_order.headers["location"] == f"/orders/{FAILED_ORDER}"
    typed = client.get("/search", params={"key_value": shop.old_trace}, follow_redirects=False)
    assert typed.headers["location"] == f"/traces/{shop.old_trace}"
    in_tag = client.get("/search", params={"tag": shop.old_trace}, follow_redirects=False)
    assert in_tag.headers["location"] == f"/traces/{shop.old_trace}"
    nothing = client.get("/go", params={"q": HOSTILE})
    assert nothing.status_code == 404 and HOSTILE not in nothing.text


def test_search_page_pages_and_reports_bad_filters(client: TestClient) -> None:
    page = client.get("/search", params={"limit": "1", "sort": "duration"})
    assert page.status_code == 200 and "next page" in page.text
    assert "order=asc" in page.text  # clicking the sorted column reverses it
    bad = client.get("/search", params={"min_duration": "soon"})
    assert bad.status_code == 400 and "not a duration" in bad.text


def test_order_page_shows_recoveries(
    client: TestClient, shop_store: tuple[UISettings, ChdbStore, Shop]
) -> None:
    built = write(shop_store[1], scenarios.retry_then_success("page-retry"))
    html = client.get("/orders/page-retry").text
    assert "<h3>Recovered</h3>" in html and 'class="recovery"' in html
    retry = built.spans[3]  # the second, successful attempt
    assert f'href="/traces/{retry.trace_id}#span-{retry.span_id}"' in html
    assert "retry of checkout" in html
    assert "Recovered" not in client.get(f"/orders/{GOOD_ORDER}").text


def test_trace_page_links_and_back_links_name_the_other_span(
    client: TestClient, shop: Shop
) -> None:
    consumer_page = client.get(f"/traces/{shop.consumer_trace}").text
    producer = shop.producer_span
    link = consumer_page.split("<h3>Links</h3>", 1)[1].split("</ul>", 1)[0]
    assert f'href="/traces/{producer.trace_id}#span-{producer.span_id}"' in link
    assert "checkout · orders publish" in link
    producer_page = client.get(f"/traces/{shop.failed_trace}").text
    back = producer_page.split("<h3>Linked from</h3>", 1)[1].split("</ul>", 1)[0]
    assert f'href="/traces/{shop.consumer_trace}#span-' in back
    assert "inventory · orders process" in back


def test_order_page_shows_each_spans_details_with_its_resource(
    client: TestClient, shop: Shop
) -> None:
    html = client.get(f"/orders/{FAILED_ORDER}").text
    detail = html.split(f'id="detail-{shop.db_span.span_id}"', 1)[1].split("</section>", 1)[0]
    resource = detail.split("<h3>Resource</h3>", 1)[1]
    assert "<th>host.name</th><td>payments-1</td>" in resource
    assert "psycopg.errors.DeadlockDetected" in detail and "deadlock detected on accounts" in detail
    assert "<th>db.system</th><td>postgresql</td>" in detail
