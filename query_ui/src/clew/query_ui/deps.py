"""What the routers take from the application: store, settings, and checked inputs."""

from __future__ import annotations

from fastapi import Request

from clew.common.store import Store
from clew.query_ui import explain
from clew.query_ui.errors import NotFoundError
from clew.query_ui.explain import contention
from clew.query_ui.read.load import load_story
from clew.query_ui.read.story import Story
from clew.query_ui.settings import Settings


def store(request: Request) -> Store:
    """The store the application was created over."""
    result: Store = request.app.state.store
    return result


def business_keys(request: Request) -> list[str]:
    """The configured business keys, in order (the first is the default)."""
    settings: Settings = request.app.state.settings
    return list(settings.business_keys)


def checked_key(request: Request, key: str) -> str:
    """A business key from a URL, which must be one the collector indexes."""
    keys = business_keys(request)
    if key not in keys:
        raise NotFoundError(
            f"{key!r} is not a configured business key (configured: {', '.join(keys)})"
        )
    return key


def story_and_diagnosis(request: Request, key: str, value: str) -> tuple[Story, explain.Diagnosis]:
    """The story of a business key value, read once (with each span's resource, for the page),
    and the explainer's diagnosis of that same story."""
    story = load_story(store(request), key, value, with_resource=True)
    if not story:
        raise NotFoundError(str(explain.NotFound(key, value)))
    return story, explain.explain(story, suspects=contention.reader(store(request)))


def diagnose(request: Request, key: str, value: str) -> explain.Diagnosis:
    """The explainer's diagnosis of a business key value; its NotFound becomes a 404."""
    try:
        return explain.diagnose(store(request), key, value)
    except explain.NotFound as exc:
        raise NotFoundError(str(exc) or f"nothing was found for {key} = {value!r}") from exc
