"""Settings, one pydantic-settings class per concern; built once at the entrypoint and passed down."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All of covid-gis's settings: defaults, then `.env`, then `COVIDGIS_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_", env_file=".env", extra="ignore")

    # DATABASE_URL (no prefix, the usual name) wins; when unset, a project-local PostGIS under var_dir is used.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    var_dir: Path = PROJECT_ROOT / "var"
    pg_port: int = 55432
    pg_bin: Path = Path("/usr/lib/postgresql/15/bin")
    pg_dbname: str = "covidgis"

    host: str = "127.0.0.1"
    port: int = 5000
    # Public URL used in OGC links; defaults to http://host:port.
    public_url: str | None = None

    # Secret for pseudonymising person identifiers (HMAC). Generated into var/ for the demo when unset.
    hmac_secret: SecretStr | None = None

    # Backups (gis/db/backup.py, pgBackRest). Unset paths live under var_dir/backup.
    backup_repo: Path | None = None  # the pgBackRest repository: base backups and the WAL archive
    backup_secrets: Path | None = None  # the HMAC secret and settings of each backup, readable by their owner only
    backup_retention_full: int = 4  # full backups kept (with their differential and incremental ones)
    backup_archive_timeout_s: int = 60  # WAL is archived at least this often: the most a lost disk can lose
    backup_check_timeout_s: int = 60  # how long `backup check` and a backup wait for a WAL segment to be archived

    @property
    def local_cluster(self) -> bool:
        """True when we run our own PostgreSQL under var/ (DATABASE_URL unset)."""
        return self.database_url is None

    @property
    def pg_data(self) -> Path:
        return self.var_dir / "pgdata"

    @property
    def pg_socket_dir(self) -> Path:
        return self.var_dir / "pgsock"

    @property
    def backup_dir(self) -> Path:
        """pgBackRest's configuration, log and locks (and, by default, the repository and the secrets)."""
        return self.var_dir.resolve() / "backup"

    @property
    def backup_repo_dir(self) -> Path:
        return (self.backup_repo or self.backup_dir / "repo").resolve()

    @property
    def backup_secrets_dir(self) -> Path:
        return (self.backup_secrets or self.backup_dir / "secrets").resolve()

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database, local cluster or DATABASE_URL."""
        if self.database_url:
            return _sqlalchemy_url(self.database_url)
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.pg_port}/{self.pg_dbname}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def log_sources(self) -> None:
        """Log where the database comes from (the setting people most often get wrong)."""
        source = "DATABASE_URL" if self.database_url else f"project-local cluster in {self.pg_data}"
        log.info("database: %s", source)


def _sqlalchemy_url(url: str) -> str:
    """Accept libpq-style URLs (postgres://, postgresql://) and pin the psycopg2 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url
