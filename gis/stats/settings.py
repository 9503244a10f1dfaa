"""Settings of the indicator computation (prefix COVIDGIS_STATS_)."""

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StatsSettings(BaseSettings):
    """Age shares for units whose census gives only a total, and the treatment-capacity criterion."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_STATS_", env_file=".env", extra="ignore")

    # Vietnam, 2019 census (GSO), national age structure: 0–14 y 24.3 %, 65+ 7.7 % (published); 18+ and 50+ are
    # derived from the single-year/5-year tables (approximate). A province with its own age table should set these.
    share_18plus: float = 0.713
    share_50plus: float = 0.228
    share_65plus: float = 0.077
    # Criterion 3 of Decision 4800 (treatment capacity) is met when the treatment beds that serve the unit (those in
    # its district; the province's for the province) exist and are less occupied than this share.
    capacity_max_occupancy: float = 0.9
    # Local day of timestamps (test collection): Vietnam has one time zone.
    timezone: str = "Asia/Ho_Chi_Minh"
    # Connections a whole day's recompute uses: with 2, a second connection counts the vaccinations, quarantine stays
    # and case windows while the first counts the tests (a second core's worth); 1 does everything in one.
    workers: int = Field(default_factory=lambda: 2 if (os.cpu_count() or 1) > 1 else 1, ge=1, le=2)
