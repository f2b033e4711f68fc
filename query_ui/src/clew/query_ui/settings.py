"""The query UI's settings: CLEW_UI_* and the settings it shares with the collector."""

from __future__ import annotations

from pydantic import Field, SecretStr

from clew.common.settings import SharedSettings


class Settings(SharedSettings):
    """Everything the UI, its JSON API and `clew ui` can be told; each field is `CLEW_<FIELD>`.

    Under `clew serve` the shared fields (host, ui_port, business keys, ClickHouse, TLS files)
    are the collector's, flags included; the UI's own are read from the environment.
    """

    # A bearer token for the UI and API (None: open); a login page sets it as a cookie.
    ui_token: SecretStr | None = None
    # The UI's own (read-only) ClickHouse connection; None: the store it is given.
    ui_clickhouse_url: SecretStr | None = None
    # The limits of every UI query (answered 504 / 422 when hit, never 500).
    ui_max_execution_time: float = Field(default=30.0, gt=0)
    ui_max_result_rows: int = Field(default=100_000, gt=0)
