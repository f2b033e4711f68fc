"""The ClickHouse-server backend (clickhouse-connect). Not built yet: a later issue fills it in."""

from __future__ import annotations

from clew.collector.errors import StoreError


def open_server_store(url: str) -> None:
    """Refuse clearly until the server backend exists."""
    raise StoreError(
        f"the ClickHouse server backend is not available yet (CLEW_CLICKHOUSE_URL={url})"
    )
