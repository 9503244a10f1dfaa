"""Settings of the publish stage (prefix COVIDGIS_PUBLISH_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PublishSettings(BaseSettings):
    """Where the static snapshot folder is written, how many snapshot versions it keeps, and whether every snapshot
    change (a recompute, `covidgis zones publish`) publishes it again (gis/jobs.py)."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_PUBLISH_", env_file=".env", extra="ignore")

    dir: Path | None = None  # unset: <var_dir>/publish
    keep: int = Field(default=3, ge=1)  # snapshot folders kept (the newest; the one latest.json names always)
    after_change: bool = True  # publish after every snapshot change (off: only `covidgis publish` writes the folder)

    def folder(self, var_dir: Path) -> Path:
        """The folder to write: COVIDGIS_PUBLISH_DIR, else <var_dir>/publish."""
        return self.dir or var_dir / "publish"
