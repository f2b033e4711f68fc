"""The explainer's store fixture: the collector's schema on each backend, as `clew` opens it.

embedded: chDB in a temp folder; server: clickhouse-connect to a fresh database on
tests/support/clickhouse_http.py's stand-in server (a chDB-backed HTTP interface).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, open_store
from clew.collector.store.server import ServerStore
from clew.common.store import Store
from tests.support.clickhouse_http import FakeClickHouse


@pytest.fixture(scope="module", params=["embedded", "server"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    data_dir: Path = tmp_path_factory.mktemp("explain") / "data"
    url = None
    if request.param == "server":
        server: FakeClickHouse = request.getfixturevalue("clickhouse_http")
        database = f"explain_{uuid.uuid4().hex[:12]}"
        server.post(f"CREATE DATABASE {database}")
        url = server.url_for(database)
    settings = Settings(data_dir=data_dir, clickhouse_url=url, business_keys=["order.id"])
    opened = open_store(settings)
    assert isinstance(opened, ServerStore if url else ChdbStore)
    apply_schema(opened, settings)
    yield opened
    opened.close()
