"""A store with the hand-counted data set, grouped by the overview job, behind a real server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from clew.collector.store import ChdbStore
from clew.query_ui.app import create_app
from clew.query_ui.overview.job import OverviewJob
from clew.query_ui.overview.settings import OverviewSettings
from tests.query_ui.conftest import open_test_store
from tests.query_ui.overview import dataset
from tests.query_ui.server import serve


@dataclass
class Overview:
    """The served data set: its base URL, its store, and what it holds."""

    url: str
    store: ChdbStore
    expected: dataset.Expected

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=60)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()


@pytest.fixture(scope="module")
def overview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Overview]:
    settings, store = open_test_store(tmp_path_factory.mktemp("overview"))
    expected = dataset.write(store)
    job = OverviewJob(store, ["order.id"], OverviewSettings(job=False))
    job.run_once(dataset.NOW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLEW_OVERVIEW_JOB", "false")  # this module runs the job itself
        app = create_app(settings, store)
    with serve(app) as url:
        yield Overview(url, store, expected)
    store.close()
