"""The overview's pages and CLI through a real server; hostile input through every parameter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.query_ui.overview.conftest import Overview
from tests.security.hostile import CORPUS
from tests.security.hostile import XSS as ALL_XSS

ROUTES = ["/", "/map", "/services/api", "/api/services", "/api/map", "/api/failures",
          "/api/services/api"]  # fmt: skip
CLEW = str(Path(sys.executable).with_name("clew"))
XSS = [x for x in ALL_XSS if "<" in x]  # the others are harmless as escaped text


def test_the_home_page_shows_services_and_groups(overview: Overview) -> None:
    page = httpx.get(f"{overview.url}/?lookback=1h", timeout=60)
    assert page.status_code == 200
    assert 'data-service="api"' in page.text and "CardDeclined" in page.text
    assert 'href="/orders/ord-1"' in page.text and "<polyline" in page.text
    assert page.text.index('data-service="worker"') < page.text.index(
        'data-service="api"'
    )  # 25 % > 20 %


def test_the_service_page_and_the_map(overview: Overview) -> None:
    page = httpx.get(f"{overview.url}/services/payments?lookback=1h", timeout=60)
    assert page.status_code == 200 and "CardDeclined" in page.text
    assert "Logs by severity" in page.text
    the_map = httpx.get(f"{overview.url}/map?lookback=1h", timeout=60)
    assert the_map.status_code == 200
    assert 'id="service-map"' in the_map.text and 'data-node="orders.placed"' in the_map.text
    assert 'href="/services/worker"' in the_map.text


def test_the_search_moved_to_its_own_address(overview: Overview) -> None:
    assert "Search traces" in httpx.get(f"{overview.url}/search", timeout=60).text
    assert "Health of the system" in httpx.get(f"{overview.url}/", timeout=60).text


@pytest.mark.parametrize("value", ["abc", "0m", "8d", "-1h", "1e9h", "9" * 80])
def test_a_bad_lookback_is_a_422_naming_it(overview: Overview, value: str) -> None:
    for path in ROUTES:
        response = httpx.get(f"{overview.url}{path}", params={"lookback": value}, timeout=60)
        assert response.status_code == 422, (path, value, response.text[:200])
        assert "lookback" in response.text


def test_a_bad_start_or_end_is_a_422_naming_it(overview: Overview) -> None:
    for name, value in (("start", "yesterday"), ("end", "2026-13-45"), ("start", "x" * 100)):
        response = httpx.get(f"{overview.url}/api/services", params={name: value}, timeout=60)
        assert response.status_code == 422 and name in response.json()["detail"], response.text


def test_hostile_input_through_every_parameter(overview: Overview) -> None:
    # The range is one dependency of every route: two routes (a page, an API) stand for all.
    sends = [
        (path, name) for path in ("/", "/api/services") for name in ("lookback", "start", "end")
    ]
    sends += [("/api/failures", "service")]
    for payload in CORPUS:
        for path, name in sends:
            response = httpx.get(f"{overview.url}{path}", params={name: payload}, timeout=60)
            assert response.status_code in (200, 422), (path, name, response.status_code)
            if not path.startswith("/api/"):  # JSON carries strings as they are
                assert all(x not in response.text for x in XSS if x in payload)
        for path in ("/services/", "/api/services/"):
            response = httpx.get(f"{overview.url}{path}{quote(payload, safe='')}", timeout=60)
            assert response.status_code in (200, 404, 422), (path, response.status_code)
            if path == "/services/":
                assert all(x not in response.text for x in XSS if x in payload)


def test_clew_services_and_clew_failures(overview: Overview) -> None:
    def run(*args: str) -> str:
        done = subprocess.run([CLEW, *args, "--url", overview.url], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    table = run("services", "--since", "1h")
    assert table.splitlines()[0].split()[:3] == ["SERVICE", "REQ/S", "REQUESTS"]
    api_line = next(line for line in table.splitlines() if line.startswith("api "))
    assert api_line.split()[2:5] == ["10", "2", "20.0"]
    groups = run("failures", "--since", "1h")
    declined = next(line for line in groups.splitlines() if "CardDeclined" in line)
    assert declined.split()[:3] == ["2", "business", "yes"]
    bad = subprocess.run([CLEW, "failures", "--since", "eight", "--url", overview.url],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "lookback" in bad.stderr
