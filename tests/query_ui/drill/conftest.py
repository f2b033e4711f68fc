"""Fixtures: a real chDB store with the drill-down traces, served by a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clew.collector.store import ChdbStore
from clew.query_ui.app import create_app
from clew.query_ui.settings import Settings
from tests.query_ui.conftest import open_test_store
from tests.query_ui.drill.traces import Drill, write_drill
from tests.query_ui.server import serve


@pytest.fixture(scope="module")
def drill_store(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, ChdbStore, Drill]]:
    settings, store = open_test_store(tmp_path_factory.mktemp("drill"))
    drill = write_drill(store)
    yield settings, store, drill
    store.close()


@pytest.fixture(scope="module")
def drill(drill_store: tuple[Settings, ChdbStore, Drill]) -> Drill:
    return drill_store[2]


@pytest.fixture(scope="module")
def drill_url(drill_store: tuple[Settings, ChdbStore, Drill]) -> Iterator[str]:
    """The UI over the drill-down traces, on a real uvicorn server."""
    settings, store, _ = drill_store
    with serve(create_app(settings, store)) as url:
        yield url
