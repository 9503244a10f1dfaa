"""`covidgis db`: the database's lifecycle, its backups and point-in-time restores (docs/operations.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich import print as rprint
from rich.console import Console
from rich.table import Table

from gis.context import AppContext
from gis.db import backup as backups
from gis.db import replica as replicas
from gis.db.cluster import Cluster, free_port
from gis.db.engine import local_cluster, make_engine, start_database
from gis.db.migrate import current_revision
from gis.db.migrate import upgrade as migrate_upgrade
from gis.settings import Settings

app = typer.Typer(help="Start, stop, inspect, migrate, back up and restore the database.", no_args_is_help=True)
backup_app = typer.Typer(
    help="Back up the database, the HMAC secret and the settings; check and list the backups.",
    invoke_without_command=True,
)
app.add_typer(backup_app, name="backup")
replica_app = typer.Typer(
    help="Hot-standby replicas of the database, for `covidgis serve` (COVIDGIS_SERVE_DATABASE_URL).",
    no_args_is_help=True,
)
app.add_typer(replica_app, name="replica")
out = Console()


class Kind(StrEnum):
    full = "full"
    diff = "diff"
    incr = "incr"


def _settings(ctx: typer.Context) -> Settings:
    context: AppContext = ctx.obj
    return context.settings


def _archiving_cluster(settings: Settings) -> Cluster | None:
    """The project-local cluster, archiving WAL into the backup repository; None when DATABASE_URL names a server."""
    return backups.archiving(local_cluster(settings), settings) if settings.local_cluster else None


def _secret(settings: Settings) -> bytes:
    from gis.ingest.pseudonym import load_secret

    return load_secret(settings)


@app.command()
def start(ctx: typer.Context) -> None:
    """Start the project-local PostGIS under var/, archiving WAL (nothing to do when DATABASE_URL names a server)."""
    settings = _settings(ctx)
    cluster = _archiving_cluster(settings)
    if cluster is not None:
        backups.start(settings, cluster)
    start_database(settings).dispose()  # starting the database is the point; nothing else runs in this command
    rprint(f"database ready: {settings.url}")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the project-local PostGIS."""
    settings = _settings(ctx)
    if not settings.local_cluster:
        rprint("DATABASE_URL is set: that server is not ours to stop")
        return
    local_cluster(settings).stop()
    rprint("stopped")


@app.command()
def status(ctx: typer.Context) -> None:
    """Say whether the database runs and which migration it is at."""
    settings = _settings(ctx)
    if settings.local_cluster and not local_cluster(settings).running():
        rprint(f"local cluster in {settings.pg_data}: stopped")
        raise typer.Exit(1)
    engine = make_engine(settings.url)  # not ctx.obj.engine: that would start a stopped local cluster
    try:
        rprint(f"database {settings.url}: running, migration {current_revision(engine) or 'none'}")
    finally:
        engine.dispose()


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the latest schema and (re)create the layer views."""
    engine = ctx.obj.engine
    migrate_upgrade(engine)
    rprint(f"database at migration {current_revision(engine)}")


@backup_app.callback()
def backup(
    ctx: typer.Context,
    kind: Kind = typer.Option(
        Kind.incr,
        "--type",
        help="full, diff (since the last full) or incr (since the last backup; a full when there is none).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Back up the database (pgBackRest) and copy the HMAC secret and settings, kept apart (0600)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings(ctx)
    made = backups.backup(settings, _archiving_cluster(settings), kind.value, _secret(settings))
    if as_json:
        print(json.dumps(made.to_json()))
        return
    if made.backup is None:
        out.print(backups.server_instructions(settings), highlight=False)
    else:
        b = made.backup
        out.print(
            f"backup {b['label']} ({b['type']}): database {_size(b['database_bytes'])}, stored "
            f"{_size(b['stored_bytes'])} in {settings.backup_repo_dir} ({made.seconds} s)",
            highlight=False,
        )
    out.print(f"HMAC secret and settings copied to {made.secrets} (mode 0600)", highlight=False)


@backup_app.command("check")
def backup_check(ctx: typer.Context) -> None:
    """Check that WAL reaches the repository now and the secret's copy is current; exit 2 saying what is broken."""
    settings = _settings(ctx)
    engine = None if settings.local_cluster else ctx.obj.engine
    for line in backups.check(settings, _archiving_cluster(settings), _secret(settings), engine):
        out.print(f"ok: {line}", highlight=False)


@backup_app.command("list")
def backup_list(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")
) -> None:
    """The backups (type, times, sizes), the WAL they can be rolled forward with, the secret's copies."""
    settings = _settings(ctx)
    found = backups.list_backups(settings)
    if as_json:
        print(json.dumps(found.to_json()))
        return
    if not settings.local_cluster:
        out.print("DATABASE_URL is set: the data's backups are on its server (`pgbackrest info` there)")
    else:
        table = Table(
            "backup",
            "type",
            "started (UTC)",
            "finished (UTC)",
            "database",
            "stored",
            "WAL",
            title=f"{len(found.backups)} backups in {found.repository} (keeping {settings.backup_retention_full} full)",
        )
        for b in found.backups:
            table.add_row(
                b["label"],
                b["type"],
                _when(b["started"]),
                _when(b["finished"]),
                _size(b["database_bytes"]),
                _size(b["stored_bytes"]),
                " … ".join(b["wal"]),
            )
        out.print(table)
        out.print(f"WAL archive: {' … '.join(found.wal) if found.wal else 'empty'}", highlight=False)
    latest = found.secrets[-1]["taken"] if found.secrets else None
    out.print(
        f"HMAC secret and settings: {len(found.secrets)} copies in {settings.backup_secrets_dir}"
        + (f", latest {_when(latest)} UTC" if latest else ""),
        highlight=False,
    )


@app.command()
def restore(
    ctx: typer.Context,
    to: str = typer.Option(
        ...,
        "--to",
        help="The time to restore, e.g. '2021-07-05 14:30:00' (this "
        "machine's time zone) or '2021-07-05T14:30:00+07:00'.",
    ),
    into: Path = typer.Option(
        None,
        "--into",
        help="A new, empty directory (default var/restore-TIME): pgdata/, hmac.key and settings/ go there.",
    ),
    port: int = typer.Option(
        None, "--port", help="Port of the restored cluster (default: the first free after COVIDGIS_PG_PORT)."
    ),
) -> None:
    """Restore the database as it was at a time into a new cluster beside the running one, with that time's secret."""
    settings = _settings(ctx)
    target = backups.parse_time(to)
    into = into or settings.var_dir / f"restore-{target.astimezone():%Y%m%dT%H%M%S}"
    done = backups.restore(settings, _archiving_cluster(settings), target, into, port)
    secret = f"the HMAC secret and settings copied at {done.secrets:%Y-%m-%d %H:%M:%S} UTC"
    if done.label is None:
        out.print(f"{secret} are in {done.into} (hmac.key, settings/)", highlight=False)
        out.print(backups.server_instructions(settings), highlight=False)
        return
    url = f"postgresql://postgres@127.0.0.1:{done.port}/{settings.pg_dbname}"
    out.print(
        f"restored {target:%Y-%m-%d %H:%M:%S %Z} from backup {done.label} into {done.into / 'pgdata'}, "
        f"running on 127.0.0.1:{done.port} ({done.seconds} s); {secret} are beside it (hmac.key, settings/)",
        highlight=False,
    )
    out.print(
        f"look at it:  DATABASE_URL={url} COVIDGIS_VAR_DIR={done.into} covidgis …\n"
        f"stop it:     COVIDGIS_VAR_DIR={done.into} COVIDGIS_PG_PORT={done.port} covidgis db stop\n"
        f"make it the database: stop the old one, then COVIDGIS_VAR_DIR={done.into} COVIDGIS_PG_PORT={done.port} "
        "covidgis db start, and take a full backup (docs/operations.md)",
        highlight=False,
    )


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ")


REPLICA_DIR = typer.Option(..., "--dir", help="The replica's directory (pgdata/, its log, replica.json).")


@replica_app.command("init")
def replica_init(
    ctx: typer.Context,
    directory: Path = REPLICA_DIR,
    primary: str = typer.Option(
        None, "--primary", help="The primary's URL (default: DATABASE_URL, or the project-local cluster)."
    ),
    slot: str = typer.Option(replicas.DEFAULT_SLOT, "--slot", help="The replication slot made on the primary."),
    port: int = typer.Option(
        None, "--port", help="The replica's port on 127.0.0.1 (default: the first free after COVIDGIS_PG_PORT)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Copy the primary into a new streaming hot standby (pg_basebackup -R, a slot), start it and wait until it
    streams."""
    settings = _settings(ctx)
    replicas.check_slot_name(slot)
    engine = make_engine(primary or settings.url)  # the primary named here, not ctx.obj.engine
    try:
        made = replicas.init(engine, directory, port or free_port(settings.pg_port + 1), settings.pg_bin, slot)
    finally:
        engine.dispose()
    dbname = engine.url.database or settings.pg_dbname
    if as_json:
        print(json.dumps(made.to_json()))
        return
    out.print(
        f"replica of {made.primary} in {made.directory}: streaming on 127.0.0.1:{made.port} from slot {made.slot} "
        f"({_size(made.copied_bytes)} copied, {made.seconds} s)\n"
        f"serve from it:  COVIDGIS_SERVE_DATABASE_URL=postgresql://<user>@127.0.0.1:{made.port}/{dbname} "
        "covidgis serve",
        highlight=False,
    )


@replica_app.command("start")
def replica_start(ctx: typer.Context, directory: Path = REPLICA_DIR) -> None:
    """Start the replica; it catches up from its slot."""
    replica = replicas.start(directory, _settings(ctx).pg_bin)
    out.print(f"replica running on 127.0.0.1:{replica.port}", highlight=False)


@replica_app.command("stop")
def replica_stop(ctx: typer.Context, directory: Path = REPLICA_DIR) -> None:
    """Stop the replica (the primary keeps its WAL in the slot until it is back)."""
    replicas.stop(directory, _settings(ctx).pg_bin)
    out.print("replica stopped", highlight=False)


@replica_app.command("remove")
def replica_remove(
    ctx: typer.Context,
    directory: Path = REPLICA_DIR,
    primary: str = typer.Option(None, "--primary", help="The primary's URL (default: the one given at init)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Retire the replica: stop it, drop its replication slot on the primary (which otherwise keeps WAL for it until
    its disk fills), delete its directory. Nothing changes when the primary does not answer."""
    settings = _settings(ctx)
    engine = make_engine(primary or replicas.primary_url(directory))
    try:
        done = replicas.remove(directory, settings.pg_bin, engine)
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps(done.to_json()))
        return
    slot = f"slot {done.slot} dropped ({_size(done.freed_bytes)} of WAL freed)" if done.slot_dropped else "no slot left"
    out.print(f"replica in {done.directory} removed; {slot}", highlight=False)


@replica_app.command("status")
def replica_status(
    ctx: typer.Context,
    directory: Path = REPLICA_DIR,
    primary: str = typer.Option(
        None, "--primary", help="The primary's URL for the bytes behind (default: the one given at init)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Whether the replica runs, its replay lag (seconds), bytes behind the primary and its slot; exit 1 when
    stopped."""
    settings = _settings(ctx)
    engine = make_engine(primary or replicas.primary_url(directory))
    try:
        found = replicas.status(directory, settings.pg_bin, engine)
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps(found.to_json()))
    elif not found.running:
        out.print(f"replica in {found.directory} (port {found.port}, slot {found.slot}): stopped", highlight=False)
    else:
        behind = "unknown (the primary did not answer)" if found.bytes_behind is None else f"{found.bytes_behind} B"
        out.print(
            f"replica in {found.directory}: running on 127.0.0.1:{found.port}, "
            f"{'standby' if found.standby else 'NOT a standby (promoted?)'}, receiver {found.receiver or 'not running'}"
            f"{', replay paused' if found.replay_paused else ''}; replay lag {found.lag_seconds} s, "
            f"bytes behind {behind}; slot {found.slot}"
            + (
                ""
                if found.slot_active is None
                else f" ({'active' if found.slot_active else 'inactive'}, "
                f"keeps {_size(found.slot_retained_bytes or 0)} of WAL)"
            ),
            highlight=False,
        )
    if not found.running:
        raise typer.Exit(1)
