"""Settings of the publish stage (prefix COVIDGIS_PUBLISH_)."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class PublishSettings(BaseSettings):
    """Where static snapshots are written and how many snapshot version folders are kept."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_PUBLISH_", env_file=".env", extra="ignore")

    dir: Path = Path("var/publish")
    keep: int = 3
