"""The settings the collector and the query UI both read, defined once: each part's own
Settings class adds its fields to these (clew.collector.settings, clew.query_ui.settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SharedSettings(BaseSettings):
    """Where to listen, which business keys, which ClickHouse, which TLS files; `CLEW_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="CLEW_", extra="ignore")

    host: str = "127.0.0.1"
    ui_port: int = Field(default=8080, ge=0, le=65535)
    # NoDecode: the variable is a plain comma-separated list, not JSON.
    business_keys: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["order.id"])
    # Secret: the URL carries the server's password; repr and logs show '**********'.
    clickhouse_url: SecretStr | None = None
    # A CA for https to ClickHouse; TLS for the receivers and the UI (both files or neither).
    clickhouse_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    @field_validator("business_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    def shared(self) -> dict[str, Any]:
        """The shared fields' values, to build the other part's settings from these."""
        return {name: getattr(self, name) for name in SharedSettings.model_fields}
