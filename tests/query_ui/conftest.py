"""Fixtures for the query UI: a real chDB store with the collector's schema, and the shop in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui.app import create_app
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.server import serve
from tests.query_ui.shop import Shop, write_shop


def open_test_store(data_dir: Path) -> tuple[UISettings, ChdbStore]:
    """An embedded store with the collector's schema applied (one chDB folder per process at a
    time), and the UI's settings to serve it with."""
    settings = Settings(data_dir=data_dir)
    store = ChdbStore(data_dir)
    apply_schema(store, settings)
    return UISettings(**settings.shared()), store


@pytest.fixture(scope="module")
def shop_store(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[UISettings, ChdbStore, Shop]]:
    settings, store = open_test_store(tmp_path_factory.mktemp("shop"))
    shop = write_shop(store)
    yield settings, store, shop
    store.close()


@pytest.fixture(scope="module")
def shop(shop_store: tuple[UISettings, ChdbStore, Shop]) -> Shop:
    return shop_store[2]


@pytest.fixture(scope="module")
def client(shop_store: tuple[UISettings, ChdbStore, Shop]) -> Iterator[TestClient]:
    settings, store, _ = shop_store
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def ui_url(shop_store: tuple[UISettings, ChdbStore, Shop]) -> Iterator[str]:
    """The shop's UI on a real uvicorn server."""
    settings, store, _ = shop_store
    with serve(create_app(settings, store)) as url:
        yield url
