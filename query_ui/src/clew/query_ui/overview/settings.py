"""The overview job's settings, `CLEW_OVERVIEW_*` (docs/adr/0006-overview.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class OverviewSettings(BaseSettings):
    """When the job runs, how long it waits for a failure's data, what counts as business."""

    model_config = SettingsConfigDict(env_prefix="CLEW_OVERVIEW_", extra="ignore")

    job: bool = True
    interval_seconds: float = Field(default=15.0, gt=0)
    # A failed order is grouped once no data of it arrived for this long ...
    quiet_seconds: float = Field(default=60.0, ge=0)
    # ... and regrouped when more arrives up to this long after it was first seen.
    horizon_seconds: float = Field(default=6 * 3600.0, gt=0)
    # A call's minute is paired into edges once it is this old (late server halves).
    edge_lateness_seconds: float = Field(default=120.0, ge=0)
    batch: int = Field(default=200, gt=0, le=10_000)
    business_errors: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("business_errors", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value
