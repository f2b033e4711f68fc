"""Real headless Chromium: the login page guards the UI, and stored XSS payloads stay text on
the trace, order and search pages (no dialog, nothing sets window.__pwned)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from clew.collector.store import ChdbStore
from clew.query_ui.app import create_app
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.server import serve
from tests.query_ui.shop import Shop
from tests.security.conftest import UI_TOKEN
from tests.security.hostile import HostileTrace, write_hostile_trace
from tests.support.browser import guarded_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ui(shop_store: tuple[UISettings, ChdbStore, Shop]) -> Iterator[tuple[str, HostileTrace]]:
    settings, store, _ = shop_store
    hostile = write_hostile_trace(store)
    with serve(create_app(settings, store)) as url:
        yield url, hostile


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with guarded_page(browser) as tab:
        yield tab


def _log_in(page: Page, url: str, token: str) -> None:
    page.fill("input[name=token]", token)
    page.click("form.login button[type=submit]")


def test_login_search_logout(page: Page, ui: tuple[str, HostileTrace]) -> None:
    url, _ = ui
    page.goto(f"{url}/search?service=checkout")
    expect(page).to_have_url(f"{url}/login?next=%2Fsearch%3Fservice%3Dcheckout")
    _log_in(page, url, "not-the-token")
    expect(page.get_by_role("alert")).to_have_text("That is not this clew's token.")
    _log_in(page, url, UI_TOKEN)
    expect(page).to_have_url(f"{url}/search?service=checkout")
    expect(page.locator("input[name=service]")).to_have_value("checkout")
    # The session cookie is HttpOnly: script on the page cannot read it.
    assert "clew_session" not in page.evaluate("document.cookie")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["clew_session"]["httpOnly"] and cookies["clew_session"]["sameSite"] == "Strict"
    page.click("form.logout button")
    expect(page).to_have_url(f"{url}/login")
    page.goto(f"{url}/search")
    expect(page).to_have_url(f"{url}/login?next=%2Fsearch")


def test_stored_xss_does_not_run(page: Page, ui: tuple[str, HostileTrace]) -> None:
    url, hostile = ui
    page.goto(f"{url}/login")
    _log_in(page, url, UI_TOKEN)
    expect(page).to_have_url(f"{url}/search")
    for path in (
        f"/traces/{hostile.trace_id}",
        f"/orders/{quote(hostile.order_id, safe='')}",
        f"/search?key_value={quote(hostile.order_id, safe='')}",
    ):
        page.goto(url + path)
        page.wait_for_load_state("load")
        # Open every collapsible part, so handlers bound to toggles get their chance too.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.wait_for_timeout(200)  # give an injected onload/onerror handler time to fire
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("iframe, svg[onload], img[onerror]").count() == 0, path
    page.goto(f"{url}/traces/{hostile.trace_id}")
    expect(page.get_by_text("<script>window.__pwned=1</script>").first).to_be_attached()
