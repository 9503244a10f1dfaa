"""Settings of the ingest stage (`COVIDGIS_INGEST_*`); built at the entrypoint and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.settings import PROJECT_ROOT


class IngestSettings(BaseSettings):
    """Where feeds are defined and dropped, how far a point may be snapped, and the scheduler's pace."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_INGEST_", env_file=".env", extra="ignore")

    feeds_dir: Path = PROJECT_ROOT / "ingest" / "feeds"
    # Drop folder: one sub-folder per feed (<drop_dir>/<feed>/); default <var_dir>/drop.
    drop_dir: Path | None = None
    # A point in a sliver gap between areas goes to the nearest hamlet within this distance; farther is rejected.
    snap_tolerance_m: float = 200.0
    # Timestamps up to this far ahead of now are accepted (device clocks drift); beyond is "date in the future".
    future_slack_minutes: int = 60
    # Scheduler: attempts per run on connection errors, and the first back-off (doubled each retry).
    retries: int = 5
    retry_backoff_s: float = 2.0
    # A feed's URL that sends nothing for this long counts as a lost connection (retried like one).
    pull_timeout_s: float = 60.0
    # Test-only hook: sleep this long inside the batch transaction after the merge, before COMMIT.
    test_merge_delay_s: float = 0.0

    def drop_folder(self, var_dir: Path) -> Path:
        """The drop folder: drop_dir when set, else var_dir/drop."""
        return self.drop_dir or var_dir / "drop"
