"""Backups proven by restoring them: pgBackRest for the data, a private copy of the HMAC secret and the settings.

pgBackRest (Debian's `pgbackrest`) does the work: full, differential and incremental base backups, the WAL archive
(PostgreSQL's archive_command pushes every segment), `check`, and point-in-time restore. This module writes its
configuration from our settings, runs it as the cluster's OS user and says its errors in one line.

The HMAC secret that keys every person_key belongs to a backup, but not in the repository beside the data: a copy of
the repository alone must not let anyone recompute person keys from ID numbers. Each backup first copies the secret
and the settings (`.env`, the COVIDGIS_* variables) into the secrets directory, readable by the operator who runs
covidgis only (directory 0700, files 0600; never the `postgres` OS user). A restore to a time puts the copy taken at or
before it next to the restored data, so feeds ingested after a restore get the same person keys as before.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import time
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy import Engine, text

from gis.db.cluster import Cluster, free_port, own, run_as_cluster_user, tail
from gis.errors import CovidGisError
from gis.settings import Settings
from gis.summary import Summary

log = logging.getLogger(__name__)

STANZA = "covidgis"
KEY_FILE = "hmac.key"  # the name gis.ingest.pseudonym reads from the var dir
_STAMP = "%Y%m%dT%H%M%S.%fZ"  # a secrets copy's directory: the UTC time it was taken
_ERROR = re.compile(r"^ERROR: \[(\d+)\]: (.*)$", re.MULTILINE)


class BackupError(CovidGisError):
    """A backup, check or restore could not be done; the message says why and what to do."""


def config_path(settings: Settings) -> Path:
    return settings.backup_dir / "pgbackrest.conf"


def archive_command(settings: Settings) -> str:
    """What PostgreSQL runs for each finished WAL segment (%p): push it into the repository."""
    config = shlex.quote(str(config_path(settings))).replace("%", "%%")
    return f"pgbackrest --config={config} --stanza={STANZA} archive-push %p"


def archiving(cluster: Cluster, settings: Settings) -> Cluster:
    """The project-local cluster with WAL archiving into the repository (applied at its next start)."""
    return replace(
        cluster, archive_command=archive_command(settings), archive_timeout_s=settings.backup_archive_timeout_s
    )


def start(settings: Settings, cluster: Cluster) -> None:
    """Write pgBackRest's configuration, start the cluster archiving, and create the stanza (idempotent)."""
    _ready(settings, cluster)
    _pgbackrest(settings, "stanza-create")


@dataclass(frozen=True)
class BackupMade(Summary):
    """A backup: where the secret and settings were copied, and the base backup (None: DATABASE_URL's server)."""

    secrets: Path
    backup: dict[str, Any] | None = None  # as list_backups lists it
    seconds: float = 0.0


@dataclass(frozen=True)
class BackupList(Summary):
    """The backups in the repository (oldest first), the WAL range they roll forward with, the secret's copies."""

    repository: Path
    backups: list[dict[str, Any]]
    wal: list[str] | None
    secrets: list[dict[str, str]]


def backup(settings: Settings, cluster: Cluster | None, kind: str, secret: bytes) -> BackupMade:
    """Copy the secret and settings, then (local cluster) take a pgBackRest backup; returns what was made.

    The copy comes first, so every backup has a copy taken before it: a restore to any time after the backup finds
    one at or before that time. With DATABASE_URL (cluster None) the data is backed up on its server.
    """
    secrets = save_secrets(settings, secret)
    if cluster is None:
        return BackupMade(secrets=secrets)
    start(settings, cluster)
    began = time.monotonic()
    _pgbackrest(settings, "backup", f"--type={kind}")
    _prune_secrets(settings)
    made = list_backups(settings).backups[-1]
    return BackupMade(secrets=secrets, backup=made, seconds=round(time.monotonic() - began, 1))


def check(settings: Settings, cluster: Cluster | None, secret: bytes, engine: Engine | None = None) -> list[str]:
    """Prove the backups can be restored: WAL reaches the repository now, and the secret's copy is current.

    Local cluster: pgBackRest's `check` (archive_command set, a forced WAL switch arrives in the repository).
    DATABASE_URL: the server's own archiver statistics (its repository is checked on the server).
    """
    done = [_check_secrets(settings, secret)]
    if cluster is None:
        if engine is None:
            raise BackupError("DATABASE_URL is set: checking its archiving needs a connection to it")
        done.append(_check_server(engine))
        return done
    _ready(settings, cluster)
    _pgbackrest(settings, "check")
    done.append(f"WAL archiving into {settings.backup_repo_dir}: a forced WAL switch arrived")
    return done


def list_backups(settings: Settings) -> BackupList:
    """The backups in the repository (oldest first, with sizes and times), the WAL range, the secrets' copies."""
    backups: list[dict[str, Any]] = []
    wal: list[str] | None = None
    if settings.local_cluster and config_path(settings).exists():
        info = json.loads(_pgbackrest(settings, "info", "--output=json") or "[]")
        stanza = info[0] if info else {}
        for b in stanza.get("backup", []):
            backups.append(
                {
                    "label": b["label"],
                    "type": b["type"],
                    "started": _utc(b["timestamp"]["start"]),
                    "finished": _utc(b["timestamp"]["stop"]),
                    "database_bytes": b["info"]["size"],
                    "stored_bytes": b["info"]["repository"]["delta"],
                    "wal": [b["archive"]["start"], b["archive"]["stop"]],
                }
            )
        archives = stanza.get("archive") or []
        if archives and archives[-1].get("min"):
            wal = [archives[0]["min"], archives[-1]["max"]]
    secrets = [{"taken": taken.isoformat(), "path": str(path)} for taken, path in _snapshots(settings)]
    return BackupList(repository=settings.backup_repo_dir, backups=backups, wal=wal, secrets=secrets)


@dataclass(frozen=True)
class Restored(Summary):
    """A point-in-time restore: where it went and what it used."""

    into: Path
    target: datetime
    secrets: datetime  # when the restored secret's copy was taken
    label: str | None = None  # the base backup (None: DATABASE_URL, only the secret and settings were restored)
    port: int | None = None  # where the restored cluster runs
    seconds: float = 0.0


def restore(
    settings: Settings, source: Cluster | None, target: datetime, into: Path, port: int | None = None
) -> Restored:
    """Restore the state of `target` into a new directory `into` (never over a cluster), start it, wait for it.

    `into` becomes a var dir of its own: `pgdata/` (the data, archiving off so the copy never writes into the
    original's repository), `hmac.key` and `settings/` (the secret and settings of that time). The restored cluster
    replays WAL up to the target, then is promoted (a new timeline) and accepts writes on `port`.
    """
    began = time.monotonic()
    if target > datetime.now(UTC):
        raise BackupError(f"--to {target:%Y-%m-%d %H:%M:%S %Z} is in the future")
    into = into.resolve()
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise BackupError(f"{into} is not empty: restore into a new directory (it never overwrites a cluster)")
    if settings.local_cluster and into.is_relative_to(settings.pg_data.resolve()):
        raise BackupError(f"{into} is inside the running cluster's data directory: restore beside it")
    if source is None:
        secrets_taken = _secrets_at(settings, target)
        _restore_secrets(settings, secrets_taken, into)
        return Restored(into=into, target=target, secrets=secrets_taken, seconds=round(time.monotonic() - began, 1))
    _write_config(settings, source)
    label = _backup_before(settings, target)
    secrets_taken = _secrets_at(settings, target)
    if source.running():
        try:  # push the WAL written up to now, so a recent target is in the repository
            _pgbackrest(settings, "check")
        except BackupError as exc:
            log.warning("restoring what the repository holds: %s", exc)
    into.mkdir(parents=True, exist_ok=True)
    into.chmod(0o755)  # the postgres OS user must reach pgdata inside it
    restored = Cluster(
        data_dir=into / "pgdata",
        socket_dir=into / "pgsock",
        bin_dir=source.bin_dir,
        port=port or free_port(settings.pg_port + 1),
    )
    restored.data_dir.mkdir(mode=0o700)
    own(restored.data_dir)
    _pgbackrest(
        settings,
        "restore",
        f"--pg1-path={restored.data_dir}",
        f"--set={label}",
        "--type=time",
        f"--target={target.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f+00}",
        "--target-action=promote",
    )
    restored.configure_archiving(None)
    _restore_secrets(settings, secrets_taken, into)
    restored.start()
    _wait_promoted(restored, target)
    return Restored(
        into=into,
        target=target,
        secrets=secrets_taken,
        label=label,
        port=restored.port,
        seconds=round(time.monotonic() - began, 1),
    )


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (`2021-07-05 14:30`, `2021-07-05T14:30:00+07:00`); without an offset, this machine's zone."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BackupError(
            f"--to {value[:40]!r} is not a time: write it like 2021-07-05 14:30:00 or 2021-07-05T14:30:00+07:00"
        ) from None
    return parsed.astimezone() if parsed.tzinfo is None else parsed


def server_instructions(settings: Settings) -> str:
    """What an operator configures on a PostgreSQL server covid-gis does not run (DATABASE_URL)."""
    return f"""\
DATABASE_URL names a server covid-gis does not run: its data is backed up there, with pgBackRest.
On the database server (apt-get install pgbackrest), as its postgres OS user:
  /etc/pgbackrest/pgbackrest.conf:
    [global]
    repo1-path=/var/lib/pgbackrest
    repo1-retention-full={settings.backup_retention_full}
    start-fast=y
    compress-type=zst
    [{STANZA}]
    pg1-path=<the server's data directory: SHOW data_directory>
  postgresql.conf (then restart PostgreSQL):
    archive_mode = on
    archive_command = 'pgbackrest --stanza={STANZA} archive-push %p'
    archive_timeout = {settings.backup_archive_timeout_s}s
  then: pgbackrest --stanza={STANZA} stanza-create && pgbackrest --stanza={STANZA} check
  crontab: 0 1 * * 0 pgbackrest --stanza={STANZA} backup --type=full; 0 1 * * 1-6 pgbackrest --stanza={STANZA} backup
  restore to a time, into a new data directory:
    pgbackrest --stanza={STANZA} restore --pg1-path=NEW_DIR --type=time --target='TIME' --target-action=promote
The HMAC secret and settings live here, with covid-gis: `covidgis db backup` copies them to
{settings.backup_secrets_dir}. See docs/operations.md."""


# --- pgBackRest ------------------------------------------------------------------------------------------------------


def _ready(settings: Settings, cluster: Cluster) -> None:
    """Write the configuration and the directories pgBackRest needs, then make sure the cluster runs, archiving."""
    if shutil.which("pgbackrest") is None:
        raise BackupError("pgBackRest is not installed: apt-get install -y pgbackrest (scripts/system-deps.sh)")
    for d in (settings.backup_dir, settings.backup_repo_dir, settings.backup_dir / "log", settings.backup_dir / "lock"):
        d.mkdir(parents=True, exist_ok=True)
        if d != settings.backup_dir:
            d.chmod(0o750)
            own(d)
    _write_config(settings, cluster)
    cluster.start()


def _write_config(settings: Settings, cluster: Cluster) -> None:
    config = config_path(settings)
    config.write_text(f"""\
# Written by covidgis from its settings (COVIDGIS_BACKUP_*) at every backup command: edits are overwritten.
[global]
repo1-path={settings.backup_repo_dir}
repo1-retention-full={settings.backup_retention_full}
log-path={settings.backup_dir / "log"}
lock-path={settings.backup_dir / "lock"}
log-level-console=error
log-level-file=info
start-fast=y
compress-type=zst
archive-timeout={settings.backup_check_timeout_s}

[{STANZA}]
pg1-path={cluster.data_dir.resolve()}
pg1-port={cluster.port}
pg1-socket-path={cluster.socket_dir.resolve()}
pg1-user=postgres
""")
    own(config)


_HINTS = {
    "087": "archive_mode is off in the running server: restart it (`covidgis db stop && covidgis db start`), and "
    "look for an archive_mode set by ALTER SYSTEM (postgresql.auto.conf)",
    "068": "archive_command does not push to pgBackRest: restart the cluster with `covidgis db stop && covidgis db "
    "start`, and look for an archive_command set by ALTER SYSTEM (postgresql.auto.conf)",
    "082": "WAL segments do not reach the repository: the archiver's errors are in the PostgreSQL log ({log})",
    "055": "the repository {repo} has no stanza (deleted or never made): `covidgis db backup` makes one",
    "041": "the postgres OS user cannot read the repository {repo}: fix its owner and permissions",
    "056": "the cluster does not accept connections: `covidgis db start`",
    "028": "the repository {repo} holds the backups of another cluster (this one was created anew): keep them by "
    "moving the repository away or setting COVIDGIS_BACKUP_REPO to a new path, then `covidgis db start`",
}


def _pgbackrest(settings: Settings, command: str, *args: str) -> str:
    """Run `pgbackrest COMMAND` with our configuration as the cluster's user; its error as one line of ours."""
    proc = run_as_cluster_user(
        ["pgbackrest", f"--config={config_path(settings)}", f"--stanza={STANZA}", command, *args]
    )
    if proc.returncode == 0:
        return proc.stdout
    output = (proc.stdout + proc.stderr).strip()
    found = _ERROR.search(output)
    code, message = found.groups() if found else ("", (output.splitlines() or ["no output"])[-1])
    said = f"it says: {message[:160].rstrip(':')}"
    if code in _HINTS:
        hint = _HINTS[code].format(log=settings.var_dir.resolve() / "postgresql.log", repo=settings.backup_repo_dir)
        raise BackupError(f"pgbackrest {command}: {hint} ({said})")
    raise BackupError(f"pgbackrest {command} failed ({said}); its log is in {settings.backup_dir / 'log'}")


def _backup_before(settings: Settings, target: datetime) -> str:
    """The newest backup that was consistent before target (pgBackRest's times are whole seconds, so one to spare)."""
    backups = list_backups(settings).backups
    if not backups:
        raise BackupError(f"there is no backup in {settings.backup_repo_dir}: `covidgis db backup --type full`")
    usable = [b for b in backups if datetime.fromisoformat(b["finished"]).timestamp() + 1 <= target.timestamp()]
    if not usable:
        raise BackupError(
            f"no backup had finished by {target:%Y-%m-%d %H:%M:%S %Z}: the first finished at "
            f"{backups[0]['finished'][:19].replace('T', ' ')} UTC"
        )
    return usable[-1]["label"]


def _wait_promoted(cluster: Cluster, target: datetime) -> None:
    """Wait until the restored cluster has replayed WAL to the target and been promoted (or has given up)."""
    while True:
        if not cluster.running():
            fatal = [line for line in tail(cluster.log_file, 50).splitlines() if "FATAL:" in line]
            if fatal and "before configured recovery target" in fatal[-1]:
                raise BackupError(
                    f"the archived WAL ends before {target:%Y-%m-%d %H:%M:%S %Z}: restore to an earlier "
                    f"time, and see `covidgis db backup check` (remove {cluster.data_dir.parent} first)"
                )
            raise BackupError(
                f"the restored cluster stopped while recovering: "
                f"{(fatal[-1].split('FATAL:', 1)[1].strip() if fatal else 'no reason logged')[:300]} "
                f"(log: {cluster.log_file})"
            )
        try:
            with (
                closing(
                    psycopg2.connect(
                        host="127.0.0.1", port=cluster.port, user="postgres", dbname="postgres", connect_timeout=5
                    )
                ) as conn,
                conn.cursor() as cur,
            ):
                cur.execute("SELECT pg_is_in_recovery()")
                if not cur.fetchone()[0]:
                    return
        except psycopg2.OperationalError:  # still starting up
            pass
        time.sleep(0.5)


def _check_server(engine: Engine) -> str:
    """A server we do not run: is it archiving, and has its archiver failed since it last succeeded?"""
    with engine.connect() as conn:
        mode = conn.execute(text("SELECT current_setting('archive_mode')")).scalar()
        stats = conn.execute(
            text(
                "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
                "last_failed_wal, last_failed_time FROM pg_stat_archiver"
            )
        ).one()
    if mode == "off":
        raise BackupError(
            "archive_mode is off on the database server: nothing is archived, so no point-in-time "
            "restore is possible (`covidgis db backup` prints what to configure there)"
        )
    failing = stats.last_failed_time and (
        stats.last_archived_time is None or stats.last_failed_time > stats.last_archived_time
    )
    if failing:
        raise BackupError(
            f"the database server's WAL archiving fails since {stats.last_failed_time:%Y-%m-%d %H:%M:%S} "
            f"(segment {stats.last_failed_wal}): see its PostgreSQL log and `pgbackrest check` there"
        )
    last = (
        f"last {stats.last_archived_wal} at {stats.last_archived_time:%Y-%m-%d %H:%M:%S}"
        if stats.archived_count
        else "nothing archived yet"
    )
    return f"the database server archives WAL ({last}); check its repository there with `pgbackrest check`"


# --- the secret and the settings -------------------------------------------------------------------------------------


def save_secrets(settings: Settings, secret: bytes) -> Path:
    """Copy the HMAC secret, `.env` and the COVIDGIS_* environment into a new private directory; returns it."""
    snapshot = _private_dir(settings.backup_secrets_dir) / datetime.now(UTC).strftime(_STAMP)
    snapshot.mkdir(mode=0o700)
    _write_private(snapshot / KEY_FILE, secret)
    env_file = Settings.model_config.get("env_file")
    if isinstance(env_file, str | Path) and Path(env_file).is_file():
        _write_private(snapshot / "dotenv", Path(env_file).read_bytes())
    variables = sorted((k, v) for k, v in os.environ.items() if k.startswith("COVIDGIS_") or k == "DATABASE_URL")
    _write_private(snapshot / "environment", "".join(f"{k}={shlex.quote(v)}\n" for k, v in variables).encode())
    return snapshot


def _check_secrets(settings: Settings, secret: bytes) -> str:
    snapshots = _snapshots(settings)
    if not snapshots:
        raise BackupError(
            f"no copy of the HMAC secret in {settings.backup_secrets_dir}: `covidgis db backup` makes "
            "one (without it, feeds ingested after a restore would not link to the restored people)"
        )
    taken, latest = snapshots[-1]
    for path in (settings.backup_secrets_dir, latest, *latest.iterdir()):
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise BackupError(f"{path} can be read by others (mode {mode:o}): `chmod go= {path}`")
    if (latest / KEY_FILE).read_bytes() != secret:
        raise BackupError(
            f"the HMAC secret in use differs from the copy of {taken:%Y-%m-%d %H:%M:%S} UTC: a restore "
            "would break every person-key link; `covidgis db backup` copies the current one (and find "
            "out why it changed)"
        )
    return f"HMAC secret and settings: the copy of {taken:%Y-%m-%d %H:%M:%S} UTC is current, readable by its owner only"


def _snapshots(settings: Settings) -> list[tuple[datetime, Path]]:
    """The secrets' copies, oldest first, with the time each was taken."""
    root = settings.backup_secrets_dir
    found = []
    for path in root.iterdir() if root.is_dir() else ():
        try:
            taken = datetime.strptime(path.name, _STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue
        found.append((taken, path))
    return sorted(found)


def _secrets_at(settings: Settings, target: datetime) -> datetime:
    """The time of the newest copy of the secret taken at or before target: the secret the data was keyed with."""
    taken = [t for t, _ in _snapshots(settings) if t <= target]
    if not taken:
        raise BackupError(
            f"no copy of the HMAC secret was taken by {target:%Y-%m-%d %H:%M:%S %Z} in "
            f"{settings.backup_secrets_dir}: a restore without it could not link new feeds"
        )
    return taken[-1]


def _restore_secrets(settings: Settings, taken: datetime, into: Path) -> None:
    """Put a copy's secret where covidgis reads it (into/hmac.key) and its settings in into/settings/."""
    source = settings.backup_secrets_dir / taken.strftime(_STAMP)
    into.mkdir(parents=True, exist_ok=True)
    _write_private(into / KEY_FILE, (source / KEY_FILE).read_bytes())
    target = _private_dir(into / "settings")
    for name in ("dotenv", "environment"):
        if (source / name).exists():
            _write_private(target / name, (source / name).read_bytes())


def _prune_secrets(settings: Settings) -> None:
    """Drop the copies older than every backup pgBackRest still keeps (its retention), except the one they need."""
    backups = list_backups(settings).backups
    if not backups:
        return
    oldest = datetime.fromisoformat(backups[0]["started"])
    snapshots = _snapshots(settings)
    needed = [i for i, (taken, _) in enumerate(snapshots) if taken <= oldest]
    for _, path in snapshots[: needed[-1]] if needed else ():
        shutil.rmtree(path)


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (0600 from its creation, so it is never readable by others)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


# --- small helpers ---------------------------------------------------------------------------------------------------


def _utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
