"""Settings of the care stage (prefix COVIDGIS_CARE_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CareSettings(BaseSettings):
    """Which clinical rules classify a batch, how transfer offers are ranked, how F1 orders are followed up."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_CARE_", env_file=".env", extra="ignore")

    # The clinical rule set (id or YAML path) that classifies each observations batch.
    ruleset: str = "vn-moh-clinical-2021"
    # Road distance ≈ great-circle distance × this factor when no road network is loaded. 1.3 is our stated
    # default (a commonly used circuity ratio for road networks; not measured on Đồng Nai's roads): it scales
    # every offer alike, so it changes the distances shown, not which facility is nearest.
    detour_factor: float = 1.3
    # A province code whose dated warning-sign set applies (e.g. "79", Hồ Chí Minh City); none: national sets only.
    province: str | None = None
    # F1 quarantine orders (gis/care/quarantine.py): the dated rule file (id or YAML path) that sets each order's
    # end, monitoring and test days (vn-f1-quarantine-2021, cited).
    f1_ruleset: str = "vn-f1-quarantine-2021"
    # Provincial parameters, NOT from a decision (no text read sets them; our stated defaults): a due test day is
    # overdue once this many days passed after it without a test of the person (1: the next day is the grace) …
    f1_test_grace_days: int = Field(default=1, ge=0, le=7)
    # … and an order is lost to follow-up after this many consecutive due test days without any test (or when its
    # end passed, plus the grace, without the final test).
    f1_lost_after_missed: int = Field(default=2, ge=1, le=10)
    # Close contacts traced (trace.exposure, risk close) with no quarantine stay get a home order from the day of
    # their last close exposure (our reading: the texts count F1 quarantine from the last contact with the F0).
    f1_orders_from_contacts: bool = True
