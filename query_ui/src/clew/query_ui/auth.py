"""The UI's bearer token (CLEW_UI_TOKEN): a login page and session cookie for browsers, the
`Authorization: Bearer` header for the API and the CLI. Without a token the UI is open.

The cookie holds an expiry and an HMAC of it keyed by the token, never the token itself;
changing the token ends every session. Static files, /healthz and the login page stay open.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from clew.common.auth import CHALLENGE, RefusalLog, TokenCheck

COOKIE = "clew_session"
SESSION_SECONDS = 12 * 3600
OPEN_PREFIXES = ("/static/",)
OPEN_PATHS = frozenset({"/healthz", "/login", "/logout"})
MAX_FORM_BYTES = 8192  # a login form is a token and a path
router = APIRouter(include_in_schema=False)


def install(app: FastAPI, token: Any) -> None:
    """Guard every route of `app` with `token` (a SecretStr, str or None: open)."""
    check = TokenCheck(token)
    app.state.ui_auth = check
    app.state.ui_refusals = RefusalLog(logging.getLogger("clew.query_ui"), "UI")
    app.include_router(router)
    if check.enabled:
        app.middleware("http")(_guard)


def _check(request: Request) -> TokenCheck:
    check: TokenCheck = request.app.state.ui_auth
    return check


def signed_in(request: Request) -> bool:
    """Whether the request carries the token or a live session cookie (True when open)."""
    check = _check(request)
    if not check.enabled or check.header_ok(request.headers.get("authorization")):
        return True
    expires, _, signature = request.cookies.get(COOKIE, "").partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(check.sign(expires), signature)


async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    path = request.url.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or signed_in(request):
        return await call_next(request)
    if _wants_page(request):
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    _refused(request)
    detail = "a valid token is required: Authorization: Bearer <CLEW_UI_TOKEN>"
    return JSONResponse(
        {"error": "Unauthorized", "detail": detail},
        status_code=401,
        headers={"WWW-Authenticate": CHALLENGE},
    )


def _refused(request: Request) -> None:
    refusals: RefusalLog = request.app.state.ui_refusals
    refusals.refused(request.client.host if request.client else "unknown")


def _wants_page(request: Request) -> bool:
    # A browser navigating: no API path, no credentials of its own, HTML accepted.
    return (
        request.method == "GET"
        and not request.url.path.startswith("/api/")
        and "authorization" not in request.headers
        and "text/html" in request.headers.get("accept", "")
    )


def safe_next(target: str | None) -> str:
    """A local path to return to after login, never another site ('//host', '/\\host')."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/search"
    return target if target.isprintable() else "/search"


def _login_page(request: Request, target: str, error: str, status: int = 200) -> Response:
    context = {"next": safe_next(target), "error": error}
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "login.html", context, status_code=status
    )
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "/search") -> Response:
    """The login page (straight back to `next` when no token is configured or signed in)."""
    if signed_in(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next, "")


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the posted token; set the session cookie and go back to where the user was."""
    body = await request.body()
    form = parse_qs(body.decode("utf-8", "replace")) if len(body) <= MAX_FORM_BYTES else {}
    token, target = form.get("token", [""])[0], form.get("next", ["/search"])[0]
    check = _check(request)
    if not check.enabled:
        return RedirectResponse(safe_next(target), status_code=303)
    if len(body) > MAX_FORM_BYTES:
        return _login_page(request, "/search", "That form is too large to be a login.", 413)
    if not check.token_ok(token):
        _refused(request)
        return _login_page(request, target, "That is not this clew's token.", status=401)
    response = RedirectResponse(safe_next(target), status_code=303)
    expires = str(int(time.time()) + SESSION_SECONDS)
    response.set_cookie(
        COOKIE,
        f"{expires}.{check.sign(expires)}",
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the browser's session."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response
