"""What the routers take from the application: store, settings, and checked inputs."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from clew.query_ui.errors import NotFoundError
from clew.query_ui.lookup import StoreLike, Story


def store(request: Request) -> StoreLike:
    """The store the application was created over."""
    result: StoreLike = request.app.state.store
    return result


def business_keys(request: Request) -> list[str]:
    """The configured business keys, in order (the first is the default)."""
    keys = list(getattr(request.app.state.settings, "business_keys", None) or ["order.id"])
    return [str(k) for k in keys]


def checked_key(request: Request, key: str) -> str:
    """A business key from a URL, which must be one the collector indexes."""
    keys = business_keys(request)
    if key not in keys:
        raise NotFoundError(
            f"{key!r} is not a configured business key (configured: {', '.join(keys)})"
        )
    return key


def story_and_diagnosis(request: Request, key: str, value: str) -> tuple[Story, dict[str, Any]]:
    """The story of a business key value, loaded once, and the explainer's diagnosis of it."""
    from clew.query_ui.adapt import key_story

    return key_story(store(request), key, value)


def diagnose(request: Request, key: str, value: str) -> Any:
    """The explainer's diagnosis of a business key value; its NotFound becomes a 404."""
    from clew.query_ui import explain  # the explainer is its own subpackage
    from clew.query_ui.adapt import ui_limits

    try:
        return explain.diagnose(store(request), key, value, limits=ui_limits())
    except explain.NotFound as exc:
        raise NotFoundError(str(exc) or f"nothing was found for {key} = {value!r}") from exc
