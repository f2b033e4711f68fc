"""Collector test fixtures: a real chDB store in a temp folder with the schema applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clew.collector.app import build_pipeline
from clew.collector.pipeline import Pipeline
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, open_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Long retention: the fixtures are dated 2023, and rows past the TTL are dropped on insert.
    return Settings(
        data_dir=tmp_path / "data", business_keys=["order.id", "customer.id"], retention_days=3650
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[ChdbStore]:
    opened = open_store(settings)
    assert isinstance(opened, ChdbStore)
    apply_schema(opened, settings)
    yield opened
    opened.close()


@pytest.fixture
def pipeline(settings: Settings, store: ChdbStore) -> Iterator[Pipeline]:
    """A started pipeline over the store, flushing quickly; drained at the end."""
    built = build_pipeline(settings.model_copy(update={"batch_max_age": 0.05}), store)
    built.start()
    yield built
    built.drain()
