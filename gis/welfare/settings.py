"""Settings of the welfare stage (prefix COVIDGIS_WELFARE_)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class WelfareSettings(BaseSettings):
    """How the ledger dates a delivery."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_WELFARE_", env_file=".env", extra="ignore")

    # A delivery's day (the programme's period, a per-day programme's dedup period) is its local day in this zone.
    timezone: str = "Asia/Ho_Chi_Minh"
