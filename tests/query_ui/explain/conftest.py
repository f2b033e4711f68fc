"""The explainer's store fixture: real chDB in a temp folder with the collector's schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    data_dir: Path = tmp_path_factory.mktemp("explain") / "data"
    opened = ChdbStore(data_dir)
    apply_schema(opened, Settings(data_dir=data_dir, business_keys=["order.id"]))
    yield opened
    opened.close()
