"""The logs explorer in real headless Chromium over a real `clew serve`: search, narrow the
range by the histogram, open a trace at the span of a log line, read a line's context, follow
the live tail; stored XSS payloads stay text. Screenshots go to test-artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.query_ui.logs.corpus import Corpus, Record, logs_body, post, wait_for
from tests.security.hostile import XSS
from tests.support.browser import guarded_page, screenshot
from tests.support.clew_server import ClewServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ClewServer, Corpus]]:
    server = ClewServer(tmp_path_factory.mktemp("browser-logs") / "data")
    server.start()
    try:
        corpus = Corpus(now=time.time_ns())
        corpus.send(server.http_url)
        hostile = [Record("xss", "ERROR", 17, p, time.time_ns() - 60 * 10**9, attributes={p: p,
                   "order.id": p}) for p in XSS]  # fmt: skip
        post(server.http_url, "/v1/logs", logs_body(hostile))
        import httpx

        def stored() -> bool:
            found = httpx.get(server.ui_url + "/api/logs", params={"lookback": "2d", "limit": 100})
            return len(found.json()["logs"]) == len(corpus.records) + len(XSS)

        wait_for(stored, "the corpus")
        wait_for(lambda: httpx.get(f"{server.ui_url}/api/traces/{corpus.t1}").status_code == 200,
                 "t1's spans")  # fmt: skip
        yield server, corpus
    finally:
        server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with guarded_page(browser, viewport={"width": 1400, "height": 1000}) as tab:
        yield tab


def test_search_narrow_by_the_histogram_and_open_the_trace(
    page: Page, served: tuple[ClewServer, Corpus]
) -> None:
    server, corpus = served
    page.goto(f"{server.ui_url}/logs?lookback=2h")
    expect(page.locator("#histogram svg rect.lv-ERROR").first).to_be_visible()
    screenshot(page, "logs-all")
    page.fill("input[name=text]", "deadlock")
    page.click("form#logs-form button[type=submit]")
    lines = page.locator("#log-lines .logline")
    expect(lines).to_have_count(2)
    expect(lines.first.locator("mark")).to_have_text("deadlock")
    screenshot(page, "logs-search")
    # Drag across the bars holding the two lines (29 and 28 minutes ago): the range narrows.
    bars = page.locator("#histogram rect.bar-hit")
    count = bars.count()
    first, last = _bar_of(page, corpus.records[1].time_ns), _bar_of(page, corpus.records[2].time_ns)
    assert 0 <= first <= last < count
    bars.nth(first).hover()
    page.mouse.down()
    bars.nth(last).hover()
    page.mouse.up()
    page.wait_for_url("**start=*")
    assert "end=" in page.url
    expect(lines).to_have_count(2)
    screenshot(page, "logs-narrowed")
    lines.filter(has_text="Deadlock detected").locator("a.trace-link").click()
    expect(page).to_have_url(f"{server.ui_url}/traces/{corpus.t1}#span-{corpus.s2}")
    expect(page.locator(f"#detail-{corpus.s2}")).to_be_visible()
    screenshot(page, "logs-opened-trace")


def _bar_of(page: Page, time_ns: int) -> int:
    """The histogram bar whose bucket holds `time_ns`."""
    index: int = page.evaluate(
        """(t) => {
            const data = JSON.parse(document.getElementById('histogram-data').textContent);
            const step = BigInt(data.step_ns);
            return data.buckets.findIndex((b) => BigInt(b.start_unix_nano) <= BigInt(t)
                && BigInt(t) < BigInt(b.start_unix_nano) + step);
        }""",
        str(time_ns),
    )
    return index


def test_context_and_the_live_tail(page: Page, served: tuple[ClewServer, Corpus]) -> None:
    server, _ = served
    page.goto(f"{server.ui_url}/logs?lookback=2h&service=payments")
    page.locator(".logline", has_text="retrying the charge").locator(".context-button").click()
    context = page.locator(".context")
    expect(context).to_contain_text("Same service: payments")
    expect(context.locator(".logline.anchor")).to_have_count(2)  # in both lists
    expect(context.locator(".logline.anchor").first).to_contain_text("retrying the charge")
    expect(context).to_contain_text("Same trace")
    screenshot(page, "logs-context")
    page.click("#tail-toggle")
    expect(page.locator("#tail-status")).to_contain_text("following")
    deadline = time.monotonic() + 90
    fresh = page.locator(".logline.fresh", has_text="arrived while watching")
    while fresh.count() == 0:  # a line sent after the page opened appears in it
        assert time.monotonic() < deadline, "the live tail showed nothing"
        post(server.http_url, "/v1/logs", logs_body([Record(
            "payments", "ERROR", 17, "arrived while watching", time.time_ns())]))  # fmt: skip
        page.wait_for_timeout(2000)
    expect(fresh.first.locator(".level")).to_have_text("ERROR")
    screenshot(page, "logs-live-tail")
    page.click("#tail-toggle")
    expect(page.locator("#tail-status")).to_have_text("paused")


def test_stored_payloads_stay_text(page: Page, served: tuple[ClewServer, Corpus]) -> None:
    server, _ = served
    page.goto(f"{server.ui_url}/logs?lookback=1h&service=xss")
    expect(page.locator("#log-lines .logline")).to_have_count(len(XSS))
    page.locator(".logline").first.locator(".context-button").click()
    expect(page.locator(".context")).to_contain_text("Same service: xss")
    page.click("#tail-toggle")
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "logs-xss")
