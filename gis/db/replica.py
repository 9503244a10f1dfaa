"""Hot-standby replicas: a streaming copy of the primary (pg_basebackup -R, a replication slot) for `covidgis serve`.

A replica lives in one directory: pgdata/ (the standby's data directory), pgsock/, postgresql.log and replica.json
(its port, slot and the primary's URL without password). It runs as `postgres`, like the project-local cluster
(gis/db/cluster.py). The primary needs `wal_level` replica (PostgreSQL's default), a free WAL sender and slot, and a
`replication` line in pg_hba.conf (initdb writes them for 127.0.0.1: the project-local cluster has them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, exc
from sqlalchemy.engine import URL

from gis import sqlfiles
from gis.db.cluster import Cluster, ClusterError, own, run_as_cluster_user, tail
from gis.errors import CovidGisError
from gis.summary import Summary

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "replica.sql")
STATE_FILE = "replica.json"
REPLICA_CONF = "covidgis-replica.conf"
DEFAULT_SLOT = "covidgis_replica"
SLOT_NAME = re.compile(r"^[a-z0-9_]{1,63}$")  # PostgreSQL's rule for replication slot names
# What a standby adds to the primary's configuration (it copies the rest): reads while replaying, and the primary
# keeps the rows a replica's query still reads (fewer "canceling statement due to conflict with recovery").
STANDBY_SETTINGS = ("hot_standby = on", "hot_standby_feedback = on")


class ReplicaError(CovidGisError):
    """A replica could not be made, started or inspected; the message says why and what to do."""


@dataclass(frozen=True)
class ReplicaMade(Summary):
    """A new replica: where it is, its port and slot, how much was copied and how long it took."""

    directory: Path
    port: int
    slot: str
    primary: str  # without password
    copied_bytes: int
    seconds: float


@dataclass(frozen=True)
class ReplicaStatus(Summary):
    """Whether the replica runs, how far its replay is behind (seconds, bytes) and the slot it streams from."""

    directory: Path
    port: int
    slot: str
    primary: str
    running: bool
    standby: bool | None = None  # False: it was promoted (or is no replica)
    receiver: str | None = None  # the WAL receiver's state ("streaming"); None: not receiving
    replay_paused: bool | None = None
    lag_seconds: float | None = None  # age of the last replayed transaction while WAL waits to be replayed; else 0
    unreplayed_bytes: int | None = None  # received, not replayed yet
    bytes_behind: int | None = None  # the primary's WAL not replayed yet (None: the primary did not answer)
    slot_active: bool | None = None
    slot_retained_bytes: int | None = None  # WAL the primary keeps for this slot


@dataclass(frozen=True)
class ReplicaRemoved(Summary):
    """A retired replica: its directory deleted, and whether its slot was dropped on the primary (None: no slot)."""

    directory: Path
    slot: str
    slot_dropped: bool
    freed_bytes: int  # WAL the primary no longer keeps for it


def cluster(directory: Path, port: int, bin_dir: Path) -> Cluster:
    """The replica's cluster (its data directory under directory)."""
    directory = directory.resolve()
    return Cluster(data_dir=directory / "pgdata", socket_dir=directory / "pgsock", port=port, bin_dir=bin_dir)


def replica_url(port: int, dbname: str = "postgres") -> str:
    """The replica as the `postgres` superuser (trust on 127.0.0.1, like the local cluster)."""
    return f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{dbname}"


def check_slot_name(slot: str) -> str:
    if not SLOT_NAME.match(slot):
        raise ReplicaError(
            f"--slot {slot!r} is not a replication slot name: use 1 to 63 lower-case letters, digits or underscores"
        )
    return slot


def init(primary: Engine, directory: Path, port: int, bin_dir: Path, slot: str = DEFAULT_SLOT) -> ReplicaMade:
    """Copy the primary into directory as a streaming standby with its own slot, start it and wait until it streams."""
    check_slot_name(slot)
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        raise ReplicaError(f"{directory} is not empty: a replica is made in a new or empty directory")
    if not (bin_dir / "pg_basebackup").exists():
        raise ReplicaError(f"pg_basebackup not found in {bin_dir}: apt-get install -y postgresql-15")
    _check_primary(primary, slot)
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    own(directory)
    url = primary.url
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line; -R writes it into postgresql.auto.conf
    conninfo = libpq_url(url)
    replica = cluster(directory, port, bin_dir)
    made = run_as_cluster_user(
        [
            bin_dir / "pg_basebackup",
            "-d",
            conninfo,
            "-D",
            replica.data_dir,
            "-R",  # standby.signal and primary_conninfo (and primary_slot_name, with -S)
            "-X",
            "stream",
            "-C",
            "-S",
            slot,
            "-c",
            "fast",
        ],
        env=env,
    )
    if made.returncode != 0:
        raise ReplicaError(_basebackup_failed(made.stderr.strip() or made.stdout.strip(), slot))
    _configure_standby(replica)
    _write_state(directory, port=port, slot=slot, primary=conninfo)
    copied = sum(p.stat().st_size for p in replica.data_dir.rglob("*") if p.is_file())
    start(directory, bin_dir)
    _wait_streaming(replica, timeout_s=60)
    return ReplicaMade(directory, port, slot, conninfo, copied, round(time.monotonic() - started, 3))


def start(directory: Path, bin_dir: Path) -> Cluster:
    """Start the replica (it catches up from its slot) and wait until it accepts connections."""
    replica = cluster(directory, _state(directory)["port"], bin_dir)
    try:
        replica.start()
    except ClusterError as error:
        raise ReplicaError(str(error)) from error
    return replica


def stop(directory: Path, bin_dir: Path) -> None:
    """Stop the replica (fast shutdown); its slot keeps the primary's WAL until it is back."""
    cluster(directory, _state(directory)["port"], bin_dir).stop()


def remove(directory: Path, bin_dir: Path, primary: Engine, timeout_s: float = 10.0) -> ReplicaRemoved:
    """Retire a replica: stop it, drop its slot on the primary (else the primary keeps WAL for it until its disk is
    full), then delete its directory. The primary is asked first: when it does not answer, nothing is changed."""
    state = _state(directory)
    slot = str(state["slot"])
    where = libpq_url(primary.url)
    try:
        with primary.connect() as conn:
            conn.exec_driver_sql(SQL["slot_retained"], {"slot": slot}).first()
    except exc.OperationalError as error:
        raise ReplicaError(
            f"cannot reach the primary {where} to drop the slot {slot!r}: {_first_line(error)}; nothing was changed "
            "(give --primary URL, or retry when it answers)"
        ) from error
    cluster(directory, state["port"], bin_dir).stop()
    deadline = time.monotonic() + timeout_s
    with primary.connect() as conn:
        while True:  # the primary's WAL sender exits shortly after its replica stops
            row = conn.exec_driver_sql(SQL["slot_retained"], {"slot": slot}).mappings().first()
            if row is None or not row["active"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
            conn.rollback()
        dropped = row is not None
        if row is not None:
            if row["active"]:
                raise ReplicaError(
                    f"the slot {slot!r} is still in use on the primary {timeout_s:.0f} s after the replica stopped "
                    "(another standby streams from it?): the replica is stopped and kept"
                )
            conn.exec_driver_sql(SQL["drop_slot"], {"slot": slot})
            conn.commit()
    shutil.rmtree(directory)
    return ReplicaRemoved(
        directory=directory.resolve(),
        slot=slot,
        slot_dropped=dropped,
        freed_bytes=int(row["retained"] or 0) if row else 0,
    )


def status(directory: Path, bin_dir: Path, primary: Engine | None) -> ReplicaStatus:
    """The replica's state from itself, and how many bytes it is behind from the primary when that answers."""
    state = _state(directory)
    replica = cluster(directory, state["port"], bin_dir)
    base = ReplicaStatus(directory.resolve(), state["port"], state["slot"], state["primary"], replica.running())
    if not base.running:
        return base
    engine = create_engine(replica_url(replica.port), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            row = conn.exec_driver_sql(SQL["standby_status"]).mappings().one()
    except exc.OperationalError as error:
        answer = _first_line(error)
        raise ReplicaError(f"the replica on port {replica.port} runs but does not answer: {answer}") from error
    finally:
        engine.dispose()
    found = replace(
        base,
        standby=row["standby"],
        receiver=row["receiver"],
        replay_paused=row["replay_paused"],
        lag_seconds=round(float(row["lag_seconds"]), 3),
        unreplayed_bytes=int(row["unreplayed_bytes"]),
    )
    if primary is None or row["replayed_lsn"] is None:
        return found
    try:
        with primary.connect() as conn:
            pos = (
                conn.exec_driver_sql(SQL["primary_position"], {"replayed": row["replayed_lsn"], "slot": state["slot"]})
                .mappings()
                .one()
            )
    except exc.OperationalError:
        return found  # the primary is down or elsewhere: the replica's own figures stand
    return replace(
        found,
        bytes_behind=max(0, int(pos["bytes_behind"])),
        slot_active=pos["slot_active"],
        slot_retained_bytes=pos["slot_retained_bytes"],
    )


@dataclass(frozen=True)
class ReplayPosition:
    """A standby's WAL positions (bytes) at one look, and whether it receives WAL from its primary."""

    received: int
    replayed: int
    receiving: bool


def replay_position(conn: Connection) -> ReplayPosition | None:
    """The standby's positions now; None on a primary."""
    row = conn.exec_driver_sql(SQL["replay_position"]).mappings().one()
    if not row["standby"]:
        return None
    replayed = int(row["replayed"] or 0)
    return ReplayPosition(max(int(row["received"] or 0), replayed), replayed, bool(row["receiving"]))


class LagWatch:
    """Replay lag over successive looks: how long WAL that an earlier look saw received is still not replayed.

    The one-look estimate (the age of the last replayed transaction while anything waits to be replayed) counts an
    idle primary's quiet time as lag: a checkpoint record after 30 quiet seconds reads as 30 s behind. This is a
    lower bound instead — no false alarm — with the resolution of the looks (/health's, every few seconds from a
    load balancer): WAL pending at two looks t apart has waited at least t.
    """

    def __init__(self, keep: int = 64):
        self.keep = keep
        self._pending: list[tuple[int, float]] = []  # (received position, when a look first saw it), oldest first
        self._lock = threading.Lock()

    def look(self, position: ReplayPosition, now: float | None = None) -> float:
        """Seconds the oldest WAL still not replayed has been seen waiting (0: all replayed)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            pending = [(lsn, seen) for lsn, seen in self._pending if lsn > position.replayed]
            if position.received > position.replayed and (not pending or pending[-1][0] < position.received):
                pending.append((position.received, now))
            if len(pending) > self.keep:  # the oldest decides the lag; thin out the middle
                pending = [pending[0], *pending[-(self.keep - 1) :]]
            self._pending = pending
            return now - pending[0][1] if pending else 0.0


def primary_url(directory: Path) -> str:
    """The primary's URL written at init (without password: libpq's PGPASSWORD or ~/.pgpass supplies one)."""
    return str(_state(directory)["primary"])


def libpq_url(url: URL) -> str:
    """url as libpq takes it (pg_basebackup -d), without password."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _check_primary(primary: Engine, slot: str) -> None:
    where = libpq_url(primary.url)
    try:
        with primary.connect() as conn:
            row = conn.exec_driver_sql(SQL["primary_ready"], {"slot": slot}).mappings().one()
    except exc.OperationalError as error:
        raise ReplicaError(f"cannot reach the primary {where}: {_first_line(error)}") from error
    if row["wal_level"] not in ("replica", "logical"):
        raise ReplicaError(
            f"the primary's wal_level is {row['wal_level']}: run ALTER SYSTEM SET wal_level = 'replica' on it, "
            "then restart it"
        )
    if row["wal_senders"] >= row["max_wal_senders"]:
        raise ReplicaError(
            f"the primary has no free WAL sender ({row['wal_senders']} of max_wal_senders {row['max_wal_senders']}): "
            "raise it with ALTER SYSTEM SET max_wal_senders, then restart the primary"
        )
    if row["slot_exists"]:
        raise ReplicaError(
            f"the primary already has a replication slot {slot!r}: pick another --slot, or drop the old one "
            f"(SELECT pg_drop_replication_slot('{slot}') on the primary) if its replica is gone"
        )
    if row["slots"] >= row["max_replication_slots"]:
        raise ReplicaError(
            f"the primary has no free replication slot ({row['slots']} of {row['max_replication_slots']}): drop an "
            "unused one (pg_replication_slots) or raise max_replication_slots and restart the primary"
        )


def _basebackup_failed(message: str, slot: str) -> str:
    first = " ".join(message.split())[:400]
    if "pg_hba.conf" in message:
        return (
            f"the primary refuses replication connections from here ({first}): add a line "
            "'host replication <user> <this host>/32 <method>' to its pg_hba.conf, then SELECT pg_reload_conf()"
        )
    return f"pg_basebackup failed ({first}); if it created the slot, drop it: SELECT pg_drop_replication_slot('{slot}')"


def _configure_standby(replica: Cluster) -> None:
    """Standby settings in a file of ours, and no WAL archiving: the primary's archive is the primary's."""
    conf = replica.data_dir / "postgresql.conf"
    include = f"include_if_exists = '{REPLICA_CONF}'"
    if include not in conf.read_text().splitlines():
        with open(conf, "a") as f:
            f.write(f"\n# hot standby, written by covidgis db replica init (gis/db/replica.py)\n{include}\n")
    path = replica.data_dir / REPLICA_CONF
    path.write_text("# Written by covidgis db replica init (gis/db/replica.py).\n" + "\n".join(STANDBY_SETTINGS) + "\n")
    own(path)
    replica.configure_archiving(None)


def _write_state(directory: Path, **state: object) -> None:
    (directory / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")


def _state(directory: Path) -> dict:
    path = directory.resolve() / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReplicaError(
            f"{directory} holds no replica ({STATE_FILE} missing): make one with covidgis db replica init"
        ) from None
    except ValueError as error:
        raise ReplicaError(f"{path} is not valid JSON ({error}): it was written by replica init") from error
    if not isinstance(state, dict) or not isinstance(state.get("port"), int) or not state.get("slot"):
        raise ReplicaError(f"{path} lacks the replica's port or slot: it was written by replica init")
    return state


def _wait_streaming(replica: Cluster, timeout_s: float) -> None:
    engine = create_engine(replica_url(replica.port), connect_args={"connect_timeout": 5})
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                with engine.connect() as conn:
                    if conn.exec_driver_sql(SQL["standby_status"]).mappings().one()["receiver"] == "streaming":
                        return
            except exc.OperationalError:
                pass  # still starting
            if time.monotonic() > deadline:
                raise ReplicaError(
                    f"the replica on port {replica.port} started but does not stream from the primary after "
                    f"{timeout_s:.0f} s; its log ({replica.log_file}):\n{tail(replica.log_file)}"
                )
            time.sleep(0.2)
    finally:
        engine.dispose()


def _first_line(error: exc.DBAPIError) -> str:
    return str(error.orig or error).strip().splitlines()[0]
