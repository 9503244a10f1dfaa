"""Settings of the publish stage (prefix COVIDGIS_PUBLISH_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PublishSettings(BaseSettings):
    """Where the static snapshot folder is written, how many snapshot versions it keeps, whether every snapshot
    change (a recompute, `covidgis zones publish`) publishes it again (gis/jobs.py), and the zooms of the API's tiles
    stored with it."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_PUBLISH_", env_file=".env", extra="ignore")

    dir: Path | None = None  # unset: <var_dir>/publish
    keep: int = Field(default=3, ge=1)  # snapshot folders kept (the newest; the one latest.json names always)
    after_change: bool = True  # publish after every snapshot change (off: only `covidgis publish` writes the folder)
    # The API's zones tiles stored per snapshot (gis/publish/apitiles.py) from z5 to this zoom; deeper ones are computed
    # per request. A national snapshot's z5–z14 took ~96 s (79,718 tiles), z5–z12 ~59 s; 4 stores none.
    api_tiles_maxzoom: int = Field(default=14, ge=4, le=14)

    @property
    def api_tile_zooms(self) -> range:
        return range(5, self.api_tiles_maxzoom + 1)

    def folder(self, var_dir: Path) -> Path:
        """The folder to write: COVIDGIS_PUBLISH_DIR, else <var_dir>/publish."""
        return self.dir or var_dir / "publish"
