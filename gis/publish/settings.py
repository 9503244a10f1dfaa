"""Settings of the publish stage (prefix COVIDGIS_PUBLISH_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PublishSettings(BaseSettings):
    """Where the static snapshot folder is written and how many snapshot versions it keeps."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_PUBLISH_", env_file=".env", extra="ignore")

    dir: Path | None = None  # unset: <var_dir>/publish
    keep: int = Field(default=3, ge=1)  # snapshot folders kept (the newest; the one latest.json names always)
