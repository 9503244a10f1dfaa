"""Settings of the care stage (prefix COVIDGIS_CARE_)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class CareSettings(BaseSettings):
    """Which clinical rules classify a batch, and how transfer offers are ranked."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_CARE_", env_file=".env", extra="ignore")

    # The clinical rule set (id or YAML path) that classifies each observations batch.
    ruleset: str = "vn-moh-clinical-2021"
    # Road distance ≈ great-circle distance × this factor when no road network is loaded. 1.3 is our stated
    # default (a commonly used circuity ratio for road networks; not measured on Đồng Nai's roads): it scales
    # every offer alike, so it changes the distances shown, not which facility is nearest.
    detour_factor: float = 1.3
    # A province code whose dated warning-sign set applies (e.g. "79", Hồ Chí Minh City); none: national sets only.
    province: str | None = None
