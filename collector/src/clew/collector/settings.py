"""The collector's settings: one object, read from `CLEW_*` variables, injected everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Everything `clew serve` can be told; each field is also `CLEW_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="CLEW_", extra="ignore")

    data_dir: Path = Path("./clew-data")
    host: str = "127.0.0.1"
    otlp_http_port: int = Field(default=4318, ge=0, le=65535)
    otlp_grpc_port: int = Field(default=4317, ge=0, le=65535)
    ui_port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=20 * MIB, gt=0)
    # NoDecode: the variable is a plain comma-separated list, not JSON.
    business_keys: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["order.id"])
    # DateTime arithmetic ends in 2106: a longer TTL would wrap and expire everything.
    retention_days: int = Field(default=7, gt=0, le=3650)
    # Secret: the URL carries the server's password; repr and logs show '**********'.
    clickhouse_url: SecretStr | None = None
    batch_max_rows: int = Field(default=20_000, gt=0)
    batch_max_age: float = Field(default=0.5, gt=0)
    buffer_max_rows: int = Field(default=100_000, gt=0)

    @field_validator("business_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value
