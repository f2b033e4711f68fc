"""Where the collector keeps its rows: a small interface over embedded chDB or a server."""

from __future__ import annotations

from clew.collector.settings import Settings
from clew.collector.store.embedded import ChdbStore
from clew.collector.store.server import open_server_store
from clew.common.store import QueryResult, Store

__all__ = ["ChdbStore", "QueryResult", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The embedded chDB store in settings.data_dir, unless settings.clickhouse_url is set."""
    if settings.clickhouse_url:
        return open_server_store(
            settings.clickhouse_url.get_secret_value(), ca_file=settings.clickhouse_ca_file
        )
    return ChdbStore(settings.data_dir)
