"""Settings of the welfare stage (prefix COVIDGIS_WELFARE_).

- `COVIDGIS_WELFARE_TIMEZONE` (default Asia/Ho_Chi_Minh): a delivery's local day.
- `COVIDGIS_WELFARE_UNREACHED_DAYS` (default 7): `covidgis welfare unreached` counts a household as reached when it
  holds a delivery of the programme in the last N days up to the day asked (or one in the dedup period a delivery
  on that day would claim). An operating choice of how often the list looks back, not a rule of any programme.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WelfareSettings(BaseSettings):
    """How the ledger dates a delivery; how far the not-yet-reached list looks back."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_WELFARE_", env_file=".env", extra="ignore")

    # A delivery's day (the programme's period, a per-day programme's dedup period) is its local day in this zone.
    timezone: str = "Asia/Ho_Chi_Minh"
    # Reached = a delivery of the programme within this many days up to the day (default 7; see the docstring).
    unreached_days: int = Field(default=7, ge=1, le=366)
