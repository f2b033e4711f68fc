"""Business-key values with reserved URL characters (`/`, `?`, `#`, `%`, space) open their pages,
and the links the pages write to them work, through a real uvicorn server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from urllib.parse import quote

import httpx
import pytest

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui.app import create_app
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.server import serve
from tests.query_ui.traces import Story

ORDER = "eu/2026/ord 7?gift=yes#1%"
TENANT = "acme/west"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server over a store with one order whose id and tenant hold reserved characters."""
    data_dir = tmp_path_factory.mktemp("keys")
    settings = Settings(data_dir=data_dir, business_keys=["order.id", "tenant.id"])
    store = ChdbStore(data_dir)
    apply_schema(store, settings)
    story = Story(base_ns=time.time_ns() - 60 * 10**9)
    keys = {"order.id": ORDER, "tenant.id": TENANT}
    root = story.span("shop", "POST /checkout", ms=30, attrs=keys)
    story.span("payments", "charge", parent=root, at=5, ms=10, status="Error", message="declined")
    story.write(store)
    with serve(create_app(UISettings(**settings.shared()), store)) as url:
        yield url, root.trace_id
    store.close()


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30)


@pytest.mark.parametrize(
    "path",
    [
        f"/orders/{quote(ORDER, safe='')}",
        f"/keys/order.id/{quote(ORDER, safe='')}",
        f"/keys/tenant.id/{quote(TENANT, safe='')}",
    ],
)
def test_pages_open_for_values_with_reserved_characters(ui: tuple[str, str], path: str) -> None:
    base, trace_id = ui
    page = _get(base + path)
    assert page.status_code == 200, page.text
    assert trace_id in page.text and "declined" in page.text


def test_api_takes_the_same_values(ui: tuple[str, str]) -> None:
    base, trace_id = ui
    value = quote(ORDER, safe="")
    diagnosis = _get(f"{base}/api/orders/{value}/diagnosis").json()
    assert diagnosis["value"] == ORDER and diagnosis["status"] == "failed"
    assert _get(f"{base}/api/keys/order.id/{value}/diagnosis").json()["value"] == ORDER
    traces = _get(f"{base}/api/keys/tenant.id/{quote(TENANT, safe='')}/traces").json()
    assert traces["value"] == TENANT and [t["trace_id"] for t in traces["traces"]] == [trace_id]
    missing = _get(f"{base}/api/orders/{quote('no/such order', safe='')}/diagnosis")
    assert missing.status_code == 404 and "no/such order" in missing.json()["detail"]


def test_trace_page_links_to_the_key_pages(ui: tuple[str, str]) -> None:
    base, trace_id = ui
    page = _get(f"{base}/traces/{trace_id}").text
    links = [unescape(h) for h in re.findall(r'class="key-link" href="([^"]+)"', page)]
    assert f"/orders/{quote(ORDER, safe='')}" in links
    assert f"/keys/tenant.id/{quote(TENANT, safe='')}" in links
    for link in links:
        opened = _get(base + link)
        assert opened.status_code == 200 and trace_id in opened.text


def test_jump_box_opens_the_value(ui: tuple[str, str]) -> None:
    base, trace_id = ui
    jumped = httpx.get(f"{base}/go", params={"q": TENANT}, timeout=30, follow_redirects=True)
    assert jumped.status_code == 200 and trace_id in jumped.text
    assert jumped.url.path == f"/keys/tenant.id/{TENANT}"  # httpx shows the decoded path
