"""The application context: every setting and one engine, built once at an entry point and passed down.

Entry points (the `covidgis` callback, each scheduler job in gis/scheduler.py) build one `AppContext` and close it
when they end (the CLI through `ctx.call_on_close`); compositions (gis/jobs.py) and `create_app` take it; library
functions take what they need (an engine, a stage's settings) as required arguments and never build their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import TracebackType

from sqlalchemy import Engine

from gis.care.settings import CareSettings
from gis.ingest.settings import IngestSettings
from gis.maps.settings import MapSettings
from gis.publish.settings import PublishSettings
from gis.risk.settings import RiskSettings
from gis.serve.settings import ServeSettings
from gis.settings import Settings
from gis.stats.settings import StatsSettings
from gis.trace.settings import TraceSettings
from gis.travel.settings import TravelSettings
from gis.welfare.settings import WelfareSettings


@dataclass
class AppContext:
    """Settings of every concern and the database engine, made on first use and disposed by `close()`."""

    settings: Settings = field(default_factory=Settings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    stats: StatsSettings = field(default_factory=StatsSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    maps: MapSettings = field(default_factory=MapSettings)
    trace: TraceSettings = field(default_factory=TraceSettings)
    travel: TravelSettings = field(default_factory=TravelSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    welfare: WelfareSettings = field(default_factory=WelfareSettings)
    care: CareSettings = field(default_factory=CareSettings)

    @cached_property
    def engine(self) -> Engine:
        """The one engine of this process: starts the local cluster when DATABASE_URL is unset."""
        from gis.db.engine import start_database

        return start_database(self.settings)

    def close(self) -> None:
        """Dispose of the engine if one was made (its pooled connections are closed)."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
