"""Engines and the database lifecycle (local cluster or DATABASE_URL)."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from gis.db.cluster import Cluster
from gis.settings import Settings

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, future=True)


def local_cluster(settings: Settings) -> Cluster:
    return Cluster(
        data_dir=settings.pg_data, socket_dir=settings.pg_socket_dir, port=settings.pg_port, bin_dir=settings.pg_bin
    )


def ensure_database(url: str) -> None:
    """Create the database named in url if it does not exist (connecting to the `postgres` maintenance db)."""
    target = make_url(url)
    if not target.database:
        return  # the server's default database, which exists
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(d)s", {"d": target.database})
            exists = found.scalar()
            if not exists:
                log.info("creating database %s", target.database)
                conn.exec_driver_sql("CREATE DATABASE " + conn.dialect.identifier_preparer.quote(target.database))
    finally:
        admin.dispose()


def start_database(settings: Settings) -> Engine:
    """Make the configured database reachable: start the local cluster when DATABASE_URL is unset."""
    if settings.local_cluster:
        cluster = local_cluster(settings)
        if not cluster.running():
            from gis.db import backup  # archiving from the cluster's first start: every change is restorable

            backup.start(settings, backup.archiving(cluster, settings))
        ensure_database(settings.url)
    return make_engine(settings.url)
