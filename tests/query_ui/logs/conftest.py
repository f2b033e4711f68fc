"""A real `clew serve` (embedded store, and over the ClickHouse server fixture) with the
logs corpus sent through its OTLP/HTTP receiver."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.query_ui.logs.corpus import Corpus, wait_for
from tests.support.clew_server import ClewServer
from tests.support.clickhouse_http import FakeClickHouse


@pytest.fixture(scope="module", params=["embedded", "server"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ClewServer, Corpus]]:
    """clew serve with the corpus stored, on each backend."""
    env: dict[str, str] = {}
    if request.param == "server":
        fake: FakeClickHouse = request.getfixturevalue("clickhouse_http")
        database = f"logs_{uuid.uuid4().hex[:10]}"
        fake.post(f"CREATE DATABASE {database}")
        env["CLEW_CLICKHOUSE_URL"] = fake.url_for(database)
    server = ClewServer(tmp_path_factory.mktemp("logs") / "data", env)
    server.start()
    corpus = Corpus(now=time.time_ns())
    try:
        corpus.send(server.http_url)
        wait_for(lambda: _count(server) >= len(corpus.records), "the corpus to be stored")
        trace = f"{server.ui_url}/api/traces/{corpus.t1}"
        wait_for(lambda: httpx.get(trace).status_code == 200, "the spans of t1")
        yield server, corpus
    finally:
        server.stop()


def _count(server: ClewServer) -> int:
    response = httpx.get(server.ui_url + "/api/logs", params={"lookback": "2d", "limit": 100})
    return len(response.json()["logs"]) if response.status_code == 200 else 0
