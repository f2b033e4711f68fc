"""The drill-down views in real headless Chromium: the flame graph (zoom, and its render time on
a 10,000-span trace, printed), the statistics tab, the comparison reached by ticking two search
results, the scatter plot's click and brush. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from clew.query_ui.app import create_app
from tests.query_ui.conftest import open_test_store
from tests.query_ui.drill.traces import Drill, deep_trace, write_drill
from tests.query_ui.server import serve
from tests.security.hostile import HostileTrace, write_hostile_trace
from tests.support.browser import guarded_page, screenshot

pytestmark = pytest.mark.browser
BIG = 10_000


@pytest.fixture(scope="module")
def drill_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Drill, str]]:
    settings, store = open_test_store(tmp_path_factory.mktemp("browser-drill"))
    try:
        drill = write_drill(store, tag="browser")
        big = deep_trace(store, BIG)
        drill.hostile = write_hostile_trace(store)
        with serve(create_app(settings, store)) as url:
            yield url, drill, big
    finally:
        store.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    errors: list[str] = []
    with guarded_page(browser, viewport={"width": 1400, "height": 1000}) as tab:
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
    assert errors == [], errors  # no script error on any page


def _span_id(url: str, trace_id: str, service: str, name: str) -> str:
    body = httpx.get(f"{url}/api/traces/{trace_id}/flame", timeout=60).json()
    services = [s for s, _ in body["services"]]
    return str(next(s[0] for s in body["spans"] if (services[s[2]], s[3]) == (service, name)))


def _open_flame(page: Page, url: str, trace_id: str) -> None:
    page.goto(f"{url}/traces/{trace_id}", timeout=120_000)
    page.click("[data-tab=flame]")
    expect(page.locator(".flame[data-ready='1']")).to_have_count(1, timeout=60_000)


def _rect(page: Page, span_id: str) -> dict[str, float] | None:
    rect: dict[str, float] | None = page.evaluate("(id) => window.clewFlame.rectOf(id)", span_id)
    return rect


def _click_frame(page: Page, span_id: str) -> None:
    rect = _rect(page, span_id)
    assert rect is not None, span_id
    box = page.locator(".flame canvas").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + rect["x"] + rect["w"] / 2, box["y"] + rect["y"] + rect["h"] / 2)


def test_flame_graph_zooms_into_a_subtree_and_out(
    page: Page, drill_ui: tuple[str, Drill, str]
) -> None:
    url, drill, _ = drill_ui
    payments = _span_id(url, drill.b, "payments", "charge")
    mailer = _span_id(url, drill.b, "mailer", "alert")
    _open_flame(page, url, drill.b)
    width = page.evaluate("document.querySelector('.flame').clientWidth")
    before = _rect(page, payments)
    assert before is not None and before["w"] < width * 0.95 and _rect(page, mailer) is not None
    screenshot(page, "drill-flame")
    _click_frame(page, payments)
    expect(page.locator(".flame")).to_have_attribute("data-zoom", payments)
    zoomed = _rect(page, payments)
    assert zoomed is not None and zoomed["w"] >= width - 1 and zoomed["x"] == 0
    assert _rect(page, mailer) is None  # a sibling is out of the zoomed view
    screenshot(page, "drill-flame-zoomed")
    _click_frame(page, payments)  # again: out to its parent
    expect(page.locator(".flame")).not_to_have_attribute("data-zoom", payments)
    page.click(".flame-reset")
    expect(page.locator(".flame")).to_have_attribute("data-zoom", "")
    assert _rect(page, mailer) is not None


def test_statistics_tab_sorts(page: Page, drill_ui: tuple[str, Drill, str]) -> None:
    url, drill, _ = drill_ui
    page.goto(f"{url}/traces/{drill.nested}")
    page.click("[data-tab=stats]")
    rows = page.locator("table.stats tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("mailer")  # most self time first
    page.click("table.stats button[data-sort=count]")
    expect(page.locator("table.stats")).to_have_attribute("data-sort", "count desc")
    expect(rows.first).to_contain_text("SELECT")
    page.click("table.stats button[data-sort=count]")
    expect(page.locator("table.stats")).to_have_attribute("data-sort", "count asc")
    screenshot(page, "drill-stats")


def test_flame_graph_of_a_10000_span_trace(page: Page, drill_ui: tuple[str, Drill, str]) -> None:
    url, _, big = drill_ui
    _open_flame(page, url, big)
    timing: dict[str, Any] = page.evaluate(
        "({render: window.clewFlame.renderMs, fetch: window.clewFlame.fetchMs,"
        " total: window.clewFlame.totalMs, spans: window.clewFlame.t.spans.length,"
        " frames: window.clewFlame.rects.length})"
    )
    assert timing["spans"] == BIG
    child = page.evaluate("window.clewFlame.t.spans[1][0]")
    _click_frame(page, child)
    expect(page.locator(".flame")).to_have_attribute("data-zoom", child)
    zoom_ms = page.evaluate("window.clewFlame.renderMs")
    print(  # a figure, not an assertion (the issue asks for < 1 s)
        f"\nflame graph of {timing['spans']} spans: drawn in {timing['render']:.1f} ms "
        f"({timing['frames']} frames wide enough to draw), "
        f"data fetched in {timing['fetch']:.0f} ms, "
        f"tab click to drawn {timing['total']:.0f} ms; zoom redraw {zoom_ms:.1f} ms"
    )
    screenshot(page, "drill-flame-10000")


def test_tick_two_search_results_to_compare(page: Page, drill_ui: tuple[str, Drill, str]) -> None:
    url, drill, _ = drill_ui
    page.goto(f"{url}/search?lookback=1h&service=frontend")
    button = page.locator("#compare-picked")
    expect(button).to_be_disabled()
    page.check(f"input.pick[value='{drill.a}']")
    expect(button).to_be_disabled()
    page.check(f"input.pick[value='{drill.b}']")
    expect(button).to_be_enabled()
    button.click()
    expect(page).to_have_url(f"{url}/compare?a={drill.b}&b={drill.a}")  # newest first
    expect(page.locator(".diverged-note")).to_contain_text("payments charge (failed in A only)")
    expect(page.locator("tr[data-kind=only_a]")).to_contain_text("mailer")
    same = page.locator("#compare tr.same")
    expect(same.first).to_be_visible()
    screenshot(page, "drill-compare")
    page.check("#only-differences")
    expect(same.first).to_be_hidden()
    expect(page.locator("tr[data-kind=only_b]")).to_be_visible()


def _dot(page: Page, trace_id: str) -> tuple[float, float]:
    point = page.evaluate(
        "(id) => { const s = window.clewScatter; const p = s.pts.find((q) => q.trace === id);"
        " return [s.px(p.t), s.py(p.d)]; }",
        trace_id,
    )
    box = page.locator("#scatter").bounding_box()
    assert box is not None
    return box["x"] + point[0], box["y"] + point[1]


def test_scatter_click_opens_and_brush_narrows(
    page: Page, drill_ui: tuple[str, Drill, str]
) -> None:
    url, drill, _ = drill_ui
    page.goto(f"{url}/search?lookback=1h&service=frontend")
    expect(page.locator("#results tbody tr[data-trace]")).to_have_count(2)
    screenshot(page, "drill-scatter")
    x, y = _dot(page, drill.b)
    page.mouse.move(x - 12, y - 12)
    page.mouse.down()
    page.mouse.move(x, y, steps=3)
    page.mouse.move(x + 12, y + 12, steps=3)
    page.mouse.up()
    page.wait_for_url("**/search?*min_duration=*")
    assert "service=frontend" in page.url and "start=" in page.url and "max_duration=" in page.url
    rows = page.locator("#results tbody tr[data-trace]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-trace", drill.b)
    screenshot(page, "drill-scatter-brushed")
    page.mouse.click(*_dot(page, drill.b))
    expect(page).to_have_url(f"{url}/traces/{drill.b}")


def test_stored_payloads_stay_text_in_the_new_views(
    page: Page, drill_ui: tuple[str, Drill, str]
) -> None:
    url, drill, _ = drill_ui
    hostile: HostileTrace = drill.hostile
    _open_flame(page, url, hostile.trace_id)
    box = page.locator(".flame canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 5)  # the tooltip shows a stored name
    page.click("[data-tab=stats]")
    expect(page.locator("table.stats tbody tr").first).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    page.goto(f"{url}/compare?a={hostile.trace_id}&b={drill.a}")
    expect(page.locator("#compare")).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    page.goto(f"{url}/search?lookback=1h")
    expect(page.locator("#scatter")).to_be_visible()
    page.mouse.move(*_dot(page, hostile.trace_id))
    assert page.evaluate("window.__pwned") is None
