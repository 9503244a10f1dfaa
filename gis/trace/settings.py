"""Settings of the trace stage (prefix COVIDGIS_TRACE_)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.trace.rules import DEFAULT_TRACE_RULESET


class TraceSettings(BaseSettings):
    """Which trace rule set runs after a batch, when a location of interest is published, how long check-ins stay."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_TRACE_", env_file=".env", extra="ignore")

    ruleset: str = DEFAULT_TRACE_RULESET
    # A location of interest is published only when its window holds at least this many distinct visitors, so a
    # listing never points at one person (issue 12, item 5).
    publish_min_visitors: int = 5
    # Check-in partitions older than this are dropped (`covidgis trace retention`); what tracing derived stays.
    retention_days: int = 21
    # Local days (windows, partitions, the day of a location of interest) are days of this time zone.
    timezone: str = "Asia/Ho_Chi_Minh"
