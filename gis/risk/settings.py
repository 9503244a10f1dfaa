"""Settings of the risk engine (prefix COVIDGIS_RISK_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.risk.changes import DEFAULT_KEEP_VERSIONS
from gis.risk.ruleset import DEFAULT_RULESET


class RiskSettings(BaseSettings):
    """Which rule set runs by default and how neighbours are found."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_RISK_", env_file=".env", extra="ignore")

    ruleset: str = DEFAULT_RULESET
    # Units of one level are neighbours when their boundaries come within this distance: the shipped commune
    # boundaries are thinned (~160 m tolerance), so true neighbours can be apart by a sliver gap.
    adjacency_tolerance_m: float = 100.0
    # The zones' change feed (`changed-since=V`) keeps the changes of this many snapshot versions; an older V is a 410.
    changes_keep_versions: int = Field(default=DEFAULT_KEEP_VERSIONS, ge=1)
