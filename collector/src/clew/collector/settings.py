"""The collector's settings: one object, read from `CLEW_*` variables, injected everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from clew.common.settings import SharedSettings

MIB = 1024 * 1024


class Settings(SharedSettings):
    """Everything the collector (`clew serve`, `clew collect`) can be told, beside the settings
    it shares with the UI (host, ui_port, business_keys, clickhouse_url, TLS files); each field
    is also `CLEW_<FIELD>`. The UI's own (CLEW_UI_*) are clew.query_ui.settings'."""

    data_dir: Path = Path("./clew-data")
    otlp_http_port: int = Field(default=4318, ge=0, le=65535)
    otlp_grpc_port: int = Field(default=4317, ge=0, le=65535)
    # `clew write`'s /metrics (clew serve's are on the OTLP/HTTP port); None: not served.
    write_metrics_port: int | None = Field(default=None, ge=0, le=65535)
    max_body_bytes: int = Field(default=20 * MIB, gt=0)
    # DateTime arithmetic ends in 2106: a longer TTL would wrap and expire everything.
    retention_days: int = Field(default=7, gt=0, le=3650)
    batch_max_rows: int = Field(default=20_000, gt=0)
    # Every insert pays a fixed ~0.2 CPU-seconds here (ClickHouse plans the OTLP staging view and
    # each side-table view again per INSERT, whatever its size; docs/adr/0007-performance.md), so
    # the age, not the rate, sets the store's CPU under light load: 0.5 s burned 0.4 of a core
    # at 5,000 spans/s, 2 s a quarter of that. The price: a span is searchable up to 2 s later.
    batch_max_age: float = Field(default=2.0, gt=0)
    # Rows accepted and not yet written (they wait in the spool, on disk, not in memory).
    buffer_max_rows: int = Field(default=5_000_000, gt=0)
    # The spool (issue 7, docs/RELIABILITY.md): accepted requests wait on disk until inserted.
    spool_dir: Path | None = None  # None: <data_dir>/spool
    spool_max_bytes: int = Field(default=1024 * MIB, ge=MIB)
    # "always": answer after fsync (group commit); "never": after write(2), survives a crash
    # of clew but not of the machine.
    spool_fsync: Literal["always", "never"] = "always"
    # Security (issue 7, docs/SECURITY.md): the receivers' bearer token (None: open).
    ingest_token: SecretStr | None = None
    # Input limits (issue 7, docs/LIMITS.md; timestamps older than retention_days are refused too):
    # items per request, attributes per span/event/link/resource/log, value bytes, map/list
    # nesting, how far ahead of now a timestamp may be.
    max_items_per_request: int = Field(default=20_000, gt=0)
    max_attributes: int = Field(default=128, ge=0)
    max_value_bytes: int = Field(default=64 * 1024, ge=64)
    max_value_depth: int = Field(default=16, ge=1)
    max_future_seconds: int = Field(default=3600, ge=0)
