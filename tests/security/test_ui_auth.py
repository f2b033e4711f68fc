"""CLEW_UI_TOKEN through FastAPI's TestClient over the real store: API, pages, login, logout."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clew.collector.store import ChdbStore
from clew.query_ui import auth
from clew.query_ui.app import create_app
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.shop import Shop
from tests.security.conftest import UI_TOKEN

HTML = {"Accept": "text/html,application/xhtml+xml"}
BEARER = {"Authorization": f"Bearer {UI_TOKEN}"}


@pytest.fixture
def client(shop_store: tuple[UISettings, ChdbStore, Shop]) -> Iterator[TestClient]:
    settings, store, _ = shop_store
    with TestClient(create_app(settings, store), follow_redirects=False) as test_client:
        yield test_client


def test_the_api_needs_the_bearer_token(client: TestClient, shop: Shop) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": UI_TOKEN}):
        refused = client.get(f"/api/traces/{shop.failed_trace}", headers=headers | HTML)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="clew"'
        assert refused.json()["error"] == "Unauthorized"
    assert client.get(f"/api/traces/{shop.failed_trace}", headers=BEARER).status_code == 200
    for schema in ("/openapi.json", "/docs"):
        assert client.get(schema).status_code == 401


def test_static_files_and_healthz_stay_open(client: TestClient) -> None:
    assert client.get("/static/clew.css").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_browser_is_sent_to_the_login_page_and_back(client: TestClient, shop: Shop) -> None:
    page = client.get("/search?service=checkout", headers=HTML)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fsearch%3Fservice%3Dcheckout"
    form = client.get(page.headers["location"])
    assert form.status_code == 200 and 'name="token"' in form.text
    assert 'value="/search?service=checkout"' in form.text
    wrong = client.post("/login", data={"token": "nope", "next": "/search"})
    assert wrong.status_code == 401 and "not this clew&#39;s token" in wrong.text
    assert auth.COOKIE not in wrong.cookies
    right = client.post("/login", data={"token": UI_TOKEN, "next": "/search?service=checkout"})
    assert right.status_code == 303 and right.headers["location"] == "/search?service=checkout"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert UI_TOKEN not in cookie  # the cookie is a signature, not the token
    search = client.get("/search?service=checkout", headers=HTML)
    assert search.status_code == 200 and "Log out" in search.text
    out = client.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/search", headers=HTML).status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:x"]
)
def test_login_never_sends_the_browser_to_another_site(client: TestClient, target: str) -> None:
    right = client.post("/login", data={"token": UI_TOKEN, "next": target})
    assert right.headers["location"] == "/search"


def test_forged_and_expired_cookies_are_refused(client: TestClient) -> None:
    check = client.app.state.ui_auth  # type: ignore[attr-defined]
    forged = {auth.COOKIE: "99999999999.0000"}
    expired = {auth.COOKIE: f"1000.{check.sign('1000')}"}
    for cookies in (forged, expired, {auth.COOKIE: "garbage"}):
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value)
        assert client.get("/api/traces", headers=HTML).status_code == 401
    client.cookies.clear()


def test_without_a_token_the_ui_is_open(shop_store: tuple[UISettings, ChdbStore, Shop]) -> None:
    settings, store, _ = shop_store
    open_settings = settings.model_copy(update={"ui_token": None})
    with TestClient(create_app(open_settings, store), follow_redirects=False) as client:
        assert client.get("/api/traces").status_code == 200
        page = client.get("/search", headers=HTML)
        assert page.status_code == 200 and "Log out" not in page.text
        assert client.get("/login").status_code == 303


def test_every_answer_carries_the_security_headers(client: TestClient, shop: Shop) -> None:
    for path in ("/login", "/search", "/api/traces", "/static/clew.css", "/healthz"):
        response = client.get(path)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "no-referrer", path


def test_refusals_are_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="clew.query_ui"):
        assert client.get("/api/traces").status_code == 401
        assert client.post("/login", data={"token": "guess"}).status_code == 401
    messages = [r.getMessage() for r in caplog.records if r.name == "clew.query_ui"]
    assert messages == ["refused 1 request(s) without a valid UI token (last from testclient)"]
