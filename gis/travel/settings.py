"""Settings of the travel stage (prefix COVIDGIS_TRAVEL_)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.travel.rules import DEFAULT_TRAVEL_RULESET


class TravelSettings(BaseSettings):
    """Which travel rule set the processes and the published snapshot use."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_TRAVEL_", env_file=".env", extra="ignore")

    ruleset: str = DEFAULT_TRAVEL_RULESET
