"""The query UI in real headless Chromium, served by a real uvicorn over a real chDB store.

Screenshots of each page are kept in test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from clew.query_ui.app import create_app
from tests.query_ui.conftest import open_test_store
from tests.query_ui.explain import scenarios
from tests.query_ui.explain.test_store import write
from tests.query_ui.server import serve
from tests.query_ui.shop import FAILED_ORDER, HOSTILE, Shop, write_shop
from tests.support.browser import guarded_page, screenshot

pytestmark = pytest.mark.browser
RETRIED_ORDER = "ord-retried-1"


@pytest.fixture(scope="module")
def shop_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Shop]]:
    settings, store = open_test_store(tmp_path_factory.mktemp("browser-shop"))
    try:
        shop = write_shop(store)
        write(store, scenarios.retry_then_success(RETRIED_ORDER))  # an hour ago: out of searches
        with serve(create_app(settings, store)) as url:
            yield url, shop
    finally:
        store.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with guarded_page(browser, viewport={"width": 1400, "height": 1000}) as tab:
        yield tab


def test_search_then_open_the_failing_span(page: Page, shop_ui: tuple[str, Shop]) -> None:
    url, shop = shop_ui
    page.goto(f"{url}/search")
    page.fill("input[name=service]", "checkout")
    page.select_option("select[name=status]", "error")
    page.click("#search-button")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("POST /checkout")
    screenshot(page, "search")
    rows.first.locator("a.trace-link").click()
    expect(page).to_have_url(f"{url}/traces/{shop.failed_trace}")
    page.click(f"#row-{shop.db_span.span_id}")
    detail = page.locator(f"#detail-{shop.db_span.span_id}")
    expect(detail).to_be_visible()
    expect(detail.locator(".exc-type")).to_have_text("psycopg.errors.DeadlockDetected")
    expect(detail.locator(".exc-message")).to_have_text("deadlock detected")
    expect(detail.locator("pre.stack")).to_contain_text("Traceback")
    expect(detail.locator(".logs.own")).to_contain_text("deadlock detected on accounts")
    screenshot(page, "trace")


def test_several_attribute_filters_from_the_form(page: Page, shop_ui: tuple[str, Shop]) -> None:
    url, shop = shop_ui
    page.goto(f"{url}/search")
    boxes = page.locator("input[name=tag]")
    expect(boxes).to_have_count(3)
    boxes.nth(0).fill("http.route=/checkout")  # on the frontend's span
    boxes.nth(1).fill("db.system=postgresql")  # on payments' database span
    page.click("#search-button")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("a.trace-link")).to_have_attribute(
        "href", f"/traces/{shop.failed_trace}"
    )
    expect(page.locator("input[name=tag]")).to_have_count(3)  # two kept, one empty
    screenshot(page, "search-attributes")


def test_span_logs_with_children_and_collapse(page: Page, shop_ui: tuple[str, Shop]) -> None:
    url, shop = shop_ui
    page.goto(f"{url}/traces/{shop.failed_trace}#span-{shop.payment_span.span_id}")
    detail = page.locator(f"#detail-{shop.payment_span.span_id}")
    expect(detail).to_be_visible()
    expect(detail.locator(".logs.own")).not_to_contain_text("deadlock detected on accounts")
    detail.get_by_label("this span and its children").check()
    expect(detail.locator(".logs.subtree")).to_contain_text("deadlock detected on accounts")
    page.click(f"#row-{shop.payment_span.span_id} button.toggle")
    expect(page.locator(f"#row-{shop.db_span.span_id}")).to_be_hidden()
    page.click(f"#row-{shop.payment_span.span_id} button.toggle")
    expect(page.locator(f"#row-{shop.db_span.span_id}")).to_be_visible()
    expect(page.locator(".hop")).to_contain_text("topic orders")


def test_order_page_reads_the_diagnosis(page: Page, shop_ui: tuple[str, Shop]) -> None:
    url, shop = shop_ui
    page.goto(f"{url}/search")
    page.fill("header input[name=q]", FAILED_ORDER)
    page.press("header input[name=q]", "Enter")
    expect(page).to_have_url(f"{url}/orders/{FAILED_ORDER}")
    diagnosis = page.locator("#diagnosis")
    expect(diagnosis.locator(".badge")).to_have_text("failed")
    cause = diagnosis.locator(".root-cause").first
    expect(cause).to_contain_text("payments")
    expect(cause.locator(".exc-type")).to_have_text("psycopg.errors.DeadlockDetected")
    expect(diagnosis.locator("table.cascade")).to_contain_text("POST /checkout")
    expect(page.locator(".trace-block")).to_have_count(2)
    expect(page.locator(".order-logs")).to_contain_text("reserving stock")
    db = page.locator(f"#row-{shop.db_span.span_id}")
    db.locator(".bar-col").click()  # the span name links to its trace; the row opens details
    detail = page.locator(f"#detail-{shop.db_span.span_id}")
    expect(detail).to_be_visible()
    expect(detail.locator("table.attrs").nth(1)).to_contain_text("payments-1")  # its resource
    screenshot(page, "order")
    page.goto(f"{url}/keys/order.id/{FAILED_ORDER}")
    expect(page.locator("#diagnosis .diag-summary")).to_contain_text("deadlock")


def test_order_page_lists_what_recovered(page: Page, shop_ui: tuple[str, Shop]) -> None:
    url, _ = shop_ui
    page.goto(f"{url}/orders/{RETRIED_ORDER}")
    diagnosis = page.locator("#diagnosis")
    expect(diagnosis.locator(".badge")).to_have_text("succeeded")
    recovered = diagnosis.locator("table.recoveries tr.recovery")
    expect(recovered).to_have_count(1)
    expect(recovered).to_contain_text("retry of checkout")
    screenshot(page, "order-recovered")
    recovered.locator("a").click()
    expect(page.locator(".span-detail:visible")).to_contain_text("http.request.resend_count")


def test_trace_id_jump_and_not_found_page(page: Page, shop_ui: tuple[str, Shop]) -> None:
    url, shop = shop_ui
    page.goto(f"{url}/search?lookback=15m")
    page.fill("header input[name=q]", shop.old_trace)
    page.press("header input[name=q]", "Enter")
    expect(page).to_have_url(f"{url}/traces/{shop.old_trace}")
    expect(page.locator("h1")).to_contain_text(shop.old_trace)
    response = page.goto(f"{url}/traces/ffffffffffffffffffffffffffffffff")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_contain_text("404")
    screenshot(page, "not-found")


def test_hostile_search_input_is_shown_as_text(page: Page, shop_ui: tuple[str, Shop]) -> None:
    url, shop = shop_ui
    page.goto(f"{url}/traces/{shop.good_trace}")  # a span name and a log body are a script tag
    expect(page.locator(".waterfall")).to_contain_text("<script>alert('x')</script>")
    page.goto(f"{url}/search")
    page.fill("input[name=service]", HOSTILE)
    page.locator("input[name=tag]").first.fill(f"{HOSTILE}={HOSTILE}")
    page.click("#search-button")
    expect(page.locator("#results")).to_contain_text("No trace matches")
    expect(page.locator("input[name=service]")).to_have_value(HOSTILE)
    page.fill("header input[name=q]", HOSTILE)
    page.press("header input[name=q]", "Enter")
    expect(page.locator("p.error")).to_contain_text(HOSTILE)


def test_critical_path_queue_time_and_missing_parents(
    page: Page, shop_ui: tuple[str, Shop]
) -> None:
    url, shop = shop_ui
    page.goto(f"{url}/traces/{shop.consumer_trace}")
    hop = page.locator(".hop").first
    expect(hop).to_contain_text("checkout")  # producer → topic → consumer
    expect(hop).to_contain_text("topic orders")
    expect(hop.locator(".queue")).to_contain_text("in the queue")
    page.goto(f"{url}/traces/{shop.failed_trace}")
    expect(page.locator(f"#row-{shop.db_span.span_id}.critical .cp")).to_be_visible()
    expect(page.locator(".row.failed")).to_have_count(5)
    page.goto(f"{url}/traces/{shop.broken_trace}")
    expect(page.get_by_role("alert")).to_contain_text("parent span(s) never arrived")
    expect(page.locator(".badge.warn")).to_contain_text("parent missing")
    screenshot(page, "trace-missing-parent")
