"""Replication lag of a hot-standby replica (issue 15, items 6 and 7: the capacity model's replication figure).

A primary and a replica made by `gis.db.replica.init` (pg_basebackup -R, a slot), both throwaway clusters in a temp
dir with PostgreSQL's default durability, on this machine. Measured: (a) small commits — the time from a one-row
commit on the primary to its replay on the replica (median, p95, max), next to the reference of one round trip
to the replica (the floor a poll can see); (b) one bulk transaction of --rows rows: commit to replayed, and the WAL
rate; (c) the primary's own view, pg_stat_replication.replay_lag, after the small commits; (d) the replica's
replay lag sampled while one writer commits 10,000-row batches back to back for --seconds.

    .venv/bin/python benchmarks/replica.py [--commits 200] [--rows 1000000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import Connection, text

from gis.db import replica
from gis.db.cluster import Cluster, free_port
from gis.db.engine import make_engine
from gis.settings import Settings


def replayed(conn: Connection, lsn: str) -> bool:
    return bool(conn.execute(text("SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)"), {"l": lsn}).scalar())


def wait_replayed(conn: Connection, lsn: str) -> float:
    start = time.perf_counter()
    while not replayed(conn, lsn):
        pass
    return time.perf_counter() - start


def sustained(pe, rconn: Connection, seconds: float) -> tuple[list[float], list[float], float]:
    """Commit 10,000-row batches for `seconds` in a thread; sample the replica's replay lag meanwhile."""
    done = threading.Event()
    wal = [0.0]

    def write() -> None:
        with pe.connect() as conn:
            first = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
            conn.commit()
            while not done.is_set():
                with conn.begin():
                    conn.execute(text("INSERT INTO bench (v) SELECT 'load ' || g FROM generate_series(1, 10000) g"))
            last = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
            wal[0] = float(conn.execute(text("SELECT pg_wal_lsn_diff(:a, :b)"), {"a": last, "b": first}).scalar_one())

    writer = threading.Thread(target=write)
    writer.start()
    samples, one_look = [], []
    watch = replica.LagWatch()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        position = replica.replay_position(rconn)
        assert position is not None
        samples.append(watch.look(position))
        one_look.append(float(rconn.exec_driver_sql(replica.SQL["standby_status"]).mappings().one()["lag_seconds"]))
        time.sleep(0.1)
    done.set()
    writer.join()
    return samples, one_look, wal[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20, help="duration of the sustained write load (d)")
    args = parser.parse_args()
    bin_dir = Settings().pg_bin
    top = Path(tempfile.mkdtemp(prefix="covidgis-bench-replica-"))
    top.chmod(0o755)
    port = free_port(56100)
    primary = Cluster(data_dir=top / "primary" / "data", socket_dir=top / "primary" / "sock", port=port)
    primary.start()
    standby: Cluster | None = None
    try:
        pe = make_engine(primary.url())
        made = replica.init(pe, top / "replica", free_port(primary.port + 1), bin_dir, "bench")
        standby = replica.cluster(top / "replica", made.port, bin_dir)
        print(f"replica made in {made.seconds:.1f} s ({made.copied_bytes / 1e6:.0f} MB copied)")
        re = make_engine(replica.replica_url(made.port))
        with pe.begin() as conn:
            conn.execute(text("CREATE TABLE bench (id bigserial PRIMARY KEY, v text)"))
        with re.connect() as rconn:
            rconn.execution_options(isolation_level="AUTOCOMMIT")
            floor = []
            for _ in range(50):
                start = time.perf_counter()
                replayed(rconn, "0/0")
                floor.append(time.perf_counter() - start)
            lags = []
            for i in range(args.commits):
                with pe.begin() as conn:
                    conn.execute(text("INSERT INTO bench (v) VALUES (:v)"), {"v": f"row {i}"})
                    lsn = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
                lags.append(wait_replayed(rconn, lsn))
            with pe.connect() as conn:
                seen = conn.execute(text("SELECT replay_lag FROM pg_stat_replication")).scalar()
            lags.sort()
            ms = [x * 1000 for x in lags]
            print(
                f"(a) {args.commits} one-row commits, commit -> replayed on the replica: median "
                f"{statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.2f} ms, max {ms[-1]:.2f} ms "
                f"(reference: one round trip to the replica {statistics.median(floor) * 1000:.2f} ms)"
            )
            print(f"(c) the primary's pg_stat_replication.replay_lag after (a): {seen}")
            with pe.begin() as conn:
                before = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
                start = time.perf_counter()
                conn.execute(
                    text("INSERT INTO bench (v) SELECT repeat('x', 40) || g FROM generate_series(1, :n) g"),
                    {"n": args.rows},
                )
            committed = time.perf_counter()
            with pe.connect() as conn:
                after = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
                wal = conn.execute(text("SELECT pg_wal_lsn_diff(:a, :b)"), {"a": after, "b": before}).scalar_one()
            behind = wait_replayed(rconn, after)
            print(
                f"(b) one transaction of {args.rows:,} rows ({float(wal) / 1e6:.0f} MB of WAL, written in "
                f"{committed - start:.2f} s): replayed {behind:.3f} s after its commit "
                f"({float(wal) / 1e6 / (committed - start + behind):.0f} MB/s end to end)"
            )
            samples, one_look, wal_bytes = sustained(pe, rconn, args.seconds)
            print(
                f"(d) {args.seconds} s of 10,000-row commits back to back ({wal_bytes / 1e6 / args.seconds:.0f} MB/s "
                f"of WAL), replay lag sampled every 0.1 s on the replica: /health's (LagWatch) median "
                f"{statistics.median(samples):.3f} s, max {max(samples):.3f} s; the one-look estimate (replica "
                f"status) median {statistics.median(one_look):.3f} s, max {max(one_look):.3f} s"
            )
        re.dispose()
        pe.dispose()
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
