"""Collector test fixtures: a real chDB store in a temp folder with the schema applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, open_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", business_keys=["order.id", "customer.id"])


@pytest.fixture
def store(settings: Settings) -> Iterator[ChdbStore]:
    opened = open_store(settings)
    assert isinstance(opened, ChdbStore)
    apply_schema(opened, settings)
    yield opened
    opened.close()
