"""The query UI in real headless Chromium, served by a real uvicorn over a real chDB store.

Screenshots of each page are kept in test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from clew.query_ui.app import create_app
from clew.query_ui.read.model import Event, Span
from tests.query_ui.conftest import open_test_store
from tests.query_ui.explain import scenarios
from tests.query_ui.explain.stories import http_client, http_server
from tests.query_ui.explain.stories.evidence import STACK
from tests.query_ui.explain.test_store import write
from tests.query_ui.server import serve
from tests.query_ui.shop import FAILED_ORDER, HOSTILE, Shop, write_shop
from tests.support.browser import guarded_page, screenshot

pytestmark = pytest.mark.browser
RETRIED_ORDER = "ord-retried-1"
FAN_OUT_ORDER = "ord-fan-out-1"
WIDTHS = (1024, 1400)


def fan_out() -> scenarios.Builder:
    """A search asks three shards at once; the slowest decides the end, then a render; shard 2
    fails with a traceback whose failing line is the application's; labels are long."""
    b = scenarios.Builder(FAN_OUT_ORDER)
    t = b.trace()
    srv = http_server(b, t, "search-frontend-with-a-long-name", "GET", "/search/{catalogue}"
                      "/products/{product_id}/variants", ms=100, status=500)  # fmt: skip
    for n, ms in ((1, 88), (2, 30), (3, 50)):
        cli = http_client(b, t, "search-frontend-with-a-long-name", "GET",
                          f"shard-{n}.index.internal.example", "/query/by-attribute/colour",
                          parent=srv, at=2, ms=ms, status=500 if n == 2 else 200)  # fmt: skip
        if n == 2:
            error = ("index.CorruptSegment", "segment 17 checksum mismatch")
            shard = http_server(b, t, "index", "GET", "/query/by-attribute/{name}", parent=cli,
                                at=3, ms=ms - 2, status=500, exception=error)  # fmt: skip
            b.spans[-1] = _with_stack(shard)
    b.span(t, "render results", "search-frontend-with-a-long-name", parent=srv, at=91, ms=8,
           kind="Internal")  # fmt: skip
    return b


def _with_stack(span: Span) -> Span:
    (event,) = span.events
    attributes = {**event.attributes, "exception.stacktrace": STACK}
    return replace(span, events=(Event(event.name, event.time_ns, attributes),))


@pytest.fixture(scope="module")
def shop_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Shop]]:
    settings, store = open_test_store(tmp_path_factory.mktemp("browser-shop"))
    try:
        shop = write_shop(store)
        write(store, scenarios.retry_then_success(RETRIED_ORDER))  # an hour ago: out of searches
        write(store, fan_out())
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


def test_collapsing_a_span_hides_exactly_its_subtree(page: Page, shop_ui: tuple[str, Shop]) -> None:
    # The fan-out search: a shard's call has a span below it and more rows after it, so hiding
    # too little or too much would show. The subtree comes from the API's parent ids.
    url, _ = shop_ui
    trace = _fan_out_trace(page, url)
    page.goto(url + trace)
    spans = httpx.get(f"{url}/api{trace}").json()["spans"]
    subtrees = {s["span_id"]: _subtree(spans, s["span_id"]) for s in spans}
    listed = [s["span_id"] for s in spans]  # in the waterfall's order
    last = len(listed) - 1
    inner = next(i for i in listed if subtrees[i] and max(map(listed.index, subtrees[i])) < last)
    page.click(f"#row-{inner} button.toggle")
    hidden = page.locator(".waterfall .row.hidden-by-collapse")
    assert set(hidden.evaluate_all("rows => rows.map(r => r.dataset.span)")) == subtrees[inner]
    expect(page.locator(f"#row-{listed[-1]}")).to_be_visible()
    page.click(f"#row-{inner} button.toggle")
    expect(hidden).to_have_count(0)


def _subtree(spans: list[dict[str, str]], span_id: str) -> set[str]:
    below, parents = set(), {span_id}
    while parents:
        parents = {s["span_id"] for s in spans if s["parent_span_id"] in parents} - below
        below |= parents
    return below


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


def _fan_out_trace(page: Page, url: str) -> str:
    page.goto(f"{url}/orders/{FAN_OUT_ORDER}")
    link = page.locator(".root-cause a").first
    href = link.get_attribute("href") or ""
    return href.split("#", 1)[0]


def test_the_waterfall_marks_the_root_cause_and_the_real_critical_path(
    page: Page, shop_ui: tuple[str, Shop]
) -> None:
    url, _ = shop_ui
    page.goto(url + _fan_out_trace(page, url))
    cause = page.locator(".row.root-cause")
    expect(cause).to_have_count(1)
    expect(cause).to_contain_text("GET /query/by-attribute/{name}")
    expect(cause.locator(".badge.cause")).to_have_text("◆ root cause")
    # What held the search up: the search, then the render, and before it the slowest shard
    # (shard 1, 88 ms); shards 2 and 3 ran beside it and held nothing up.
    critical = page.locator(".row.critical .span-name")
    expect(critical).to_have_text([
        "GET /search/{catalogue}/products/{product_id}/variants",
        "GET shard-1.index.internal.example /query/by-attribute/colour",
        "render results",
    ])  # fmt: skip
    expect(page.locator(".row .cp")).to_have_count(3)
    screenshot(page, "trace-root-cause-critical-path")


def test_a_traceback_shows_the_failing_line_first_and_folds_the_library(
    page: Page, shop_ui: tuple[str, Shop]
) -> None:
    url, _ = shop_ui
    trace = _fan_out_trace(page, url)
    failing = page.locator("#diagnosis .ev-exception .frame.failing")
    expect(failing).to_be_visible()
    expect(failing).to_contain_text("invoices.py line 17, in load_invoice")
    expect(failing).to_contain_text('raise InvoiceGone(f"invoice {invoice_id} no longer exists")')
    folded = page.locator("#diagnosis .ev-exception details.library-frames").first
    expect(folded).to_contain_text("2 library frame(s) folded")
    expect(folded.locator("pre.stack")).to_be_hidden()
    screenshot(page, "order-folded-traceback")
    page.goto(url + trace)
    page.locator(".row.root-cause").click()
    detail = page.locator(".span-detail:visible")
    line = detail.locator(".frame.failing")
    expect(line).to_be_in_viewport()
    # Nothing to scroll inside a box to reach it: the frames are not a scrolled block.
    box = line.evaluate(SCROLL_BOX)
    assert box[0] <= box[1] and box[2] <= box[3], box
    detail.locator("details.library-frames summary").click()
    expect(detail.locator("pre.stack")).to_contain_text("starlette/routing.py")
    screenshot(page, "trace-folded-traceback")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_waterfall_fits_the_window_without_clipping_labels(
    browser: Browser, shop_ui: tuple[str, Shop], width: int
) -> None:
    url, shop = shop_ui
    with guarded_page(browser, viewport={"width": width, "height": 900}) as tab:
        for path in (_fan_out_trace(tab, url), f"/traces/{shop.failed_trace}",
                     f"/orders/{FAN_OUT_ORDER}"):  # fmt: skip
            tab.goto(url + path)
            expect(tab.locator(".row").first).to_be_visible()
            overflow = tab.evaluate(OVERFLOW)
            assert overflow == {"page": False, "labels": [], "durations": []}, (path, overflow)
            screenshot(tab, f"waterfall-{width}px-{path.strip('/').split('/')[0]}")


SCROLL_BOX = """el => {
  const b = el.closest('.traceback');
  return [b.scrollHeight, b.clientHeight, b.scrollWidth, b.clientWidth];
}"""
# What does not fit: the page scrolls sideways, a label is cut, a duration leaves its column.
OVERFLOW = """() => {
  const page = document.documentElement.scrollWidth > window.innerWidth;
  const labels = [...document.querySelectorAll('.waterfall .label-col')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => el.textContent.trim().slice(0, 60));
  const durations = [...document.querySelectorAll('.waterfall .dur')].filter(el => {
    const col = el.parentElement.getBoundingClientRect(), box = el.getBoundingClientRect();
    return box.right > col.right + 1 || box.left < col.left - 1;
  }).map(el => el.textContent);
  return {page, labels, durations};
}"""
