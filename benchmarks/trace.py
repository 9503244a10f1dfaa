"""Tracing at a large province's 2021 peak (issue 12, "Speed"): a synthetic province (3 M people, 50,000 venues
with Zipf-like popularity, 30 M check-ins over 14 days in day partitions of events.checkins, 1,000 new F0 detected
on the last day) in the database `covidgis_bench_trace` of a cluster the benchmark starts. Prints, with the load
average beside each figure:
  (a) all exposures of the 1,000 new F0 (gis.trace.engine, committed), goal ≤ 2 s; exposures are derived on read
      (the view trace.exposure, migration 0022), so reading them all once is printed beside it;
  (b) one F0, the median of 20 (each rolled back), goal ≤ 50 ms;
  (c) the incremental trace after a 100,000-row check-in batch (inserted with a batch id as the pipeline would;
      timed: cases_touched_by_batch + the trace of the touched cases), goal ≤ 1 s;
  (d) peak memory of this Python process (ru_maxrss) and of the server backend that ran the traces (VmHWM, which
      counts the shared buffers the backend touched; RssAnon its private memory), goal ≤ 1 GB;
and, in the same run, a reference: the plain indexed self-join a tracer would write (F0 check-ins in the window
joined to the same venue's check-ins within ±covisit_minutes) for the same F0s.

    .venv/bin/python benchmarks/trace.py [--data DIR] [--people N --venues N --checkins N --days N --f0 N] [--quick]

Building 30 M check-ins takes minutes (generate_series server-side, one day partition at a time, indexed after the
load); with --data DIR the cluster lives in DIR and a second run of the same size reuses the data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.db.cluster import Cluster  # noqa: E402
from gis.db.engine import ensure_database, make_engine  # noqa: E402
from gis.db.migrate import upgrade  # noqa: E402
from gis.trace.engine import cases_touched_by_batch, trace_in  # noqa: E402
from gis.trace.rules import DEFAULT_TRACE_RULESET, load_trace_rules  # noqa: E402
from gis.trace.settings import TraceSettings  # noqa: E402

DATABASE = "covidgis_bench_trace"
LAST_DAY = dt.date(2021, 8, 31)  # Ho Chi Minh City's peak
BATCH_ROWS = 100_000
SINGLE_RUNS = 20
QUICK = {"people": 30_000, "venues": 2_000, "checkins": 300_000, "days": 14, "f0": 100}
# venue kinds by popularity rank: the most visited are industrial zones, then markets and supermarkets
KINDS = "CASE WHEN g <= 50 THEN 'industrial_zone' WHEN g <= 500 THEN (ARRAY['market','supermarket'])[1 + mod(g, 2)] "
KINDS += "ELSE (ARRAY['restaurant','office','school','hospital','other','market','supermarket'])[1 + mod(g, 7)] END"

VENUES = f"""
INSERT INTO events.venues (venue_id, name, kind, batch_id, row_hash)
SELECT 'V' || g, 'Địa điểm ' || g, {KINDS}, %(batch)s, md5(g::text)
FROM generate_series(1, %(venues)s) g
"""
# Zipf-like popularity, p(rank) ∝ rank^-s: inverse CDF of the continuous power law over [1, venues + 1)
CHECKINS_DAY = """
INSERT INTO {part} (checkin_id, checked_in_at, person_key, venue_id, batch_id, row_hash)
SELECT 'C' || %(tag)s || '-' || g,
       %(lower)s::timestamptz + (21600 + random() * 57600) * interval '1 second',
       'P' || (1 + floor(random() * %(people)s))::bigint,
       'V' || least(%(venues)s, floor(power(random() * (power(%(venues)s + 1.0, 1 - %(s)s) - 1) + 1,
                                            1 / (1 - %(s)s))))::bigint,
       %(batch)s, ''
FROM generate_series(1, %(n)s) g
"""
CASES = """
INSERT INTO events.cases (case_id, person_key, detected_on, status, batch_id, row_hash)
SELECT 'F0-' || g, 'P' || (1 + ((g::bigint * 2654435761) %% %(people)s)), %(day)s, 'confirmed', %(batch)s, ''
FROM generate_series(1, %(f0)s) g
"""
BATCH = """
INSERT INTO ingest.batch (feed, file_name, file_sha256, rows_read, accepted, started_at, finished_at)
VALUES (%(feed)s, %(name)s, md5(%(name)s || clock_timestamp()), %(rows)s, %(rows)s, now(), now()) RETURNING id
"""
# The reference: the obvious indexed self-join (checkins_person_time_idx for the F0's check-ins, then
# checkins_venue_time_idx for the same venue ±N minutes), counted as distinct (case, contact check-in) pairs.
REFERENCE = """
SELECT count(*) FROM (
    SELECT DISTINCT c.case_id, k.checkin_id, k.checked_in_at
    FROM events.cases c
    JOIN events.checkins f
      ON f.person_key = c.person_key
     AND f.checked_in_at >= ((c.detected_on - %(before_days)s)::timestamp AT TIME ZONE %(tz)s)
     AND f.checked_in_at < ((c.detected_on + 1)::timestamp AT TIME ZONE %(tz)s)
    JOIN events.checkins k
      ON k.venue_id = f.venue_id
     AND k.checked_in_at BETWEEN f.checked_in_at - %(minutes)s * interval '1 minute'
                             AND f.checked_in_at + %(minutes)s * interval '1 minute'
     AND k.person_key <> c.person_key
    WHERE c.case_id = ANY (%(cases)s::text[])
) x
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def say(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:<62} {seconds:8.2f} s  {extra}  ({load()})", flush=True)


def sizes(args) -> dict[str, Any]:
    return {k: getattr(args, k) for k in ("people", "venues", "checkins", "days", "f0", "zipf")}


def stored_sizes(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as conn:
        if not conn.exec_driver_sql("SELECT to_regclass('public.bench_trace_size')").scalar():
            return None
        row = conn.exec_driver_sql("SELECT people, venues, checkins, days, f0, zipf FROM bench_trace_size").first()
        return dict(row._mapping) if row else None


def drop_database(url: str) -> None:
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        admin.dispose()


def build(engine: Engine, args, tz: str) -> None:
    """The synthetic province, server-side: venues, one day partition of check-ins at a time (loaded unindexed,
    then attached, which builds its indexes), the F0s, ANALYZE."""
    started = time.perf_counter()
    first = LAST_DAY - dt.timedelta(days=args.days - 1)
    per_day = args.checkins // args.days
    with engine.begin() as conn:
        batch = conn.exec_driver_sql(BATCH, {"feed": "venues", "name": "bench-venues", "rows": args.venues}).scalar()
        conn.exec_driver_sql(VENUES, {"batch": batch, "venues": args.venues})
    say(f"build: {args.venues:,} venues", time.perf_counter() - started)
    with engine.begin() as conn:
        batch = conn.exec_driver_sql(BATCH, {"feed": "checkins", "name": "bench-checkins", "rows": args.checkins})
        batch = batch.scalar()
    for i in range(args.days):
        day = first + dt.timedelta(days=i)
        t0 = time.perf_counter()
        part = f"events.checkins_{day:%Y%m%d}"
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            lower, upper = conn.exec_driver_sql(
                "SELECT %(d)s::timestamp AT TIME ZONE %(tz)s, (%(d)s::date + 1)::timestamp AT TIME ZONE %(tz)s",
                {"d": day, "tz": tz},
            ).one()
            conn.exec_driver_sql(f"CREATE TABLE {part} (LIKE events.checkins INCLUDING DEFAULTS)")
            n = per_day if i < args.days - 1 else args.checkins - per_day * (args.days - 1)
            conn.exec_driver_sql(
                CHECKINS_DAY.format(part=part),
                {
                    "tag": f"{day:%Y%m%d}",
                    "lower": lower,
                    "people": args.people,
                    "venues": args.venues,
                    "s": args.zipf,
                    "batch": batch,
                    "n": n,
                },
            )
            # a matching CHECK lets ATTACH skip its validation scan
            conn.exec_driver_sql(
                f"ALTER TABLE {part} ADD CONSTRAINT bench_bounds CHECK "
                f"(checked_in_at >= '{lower.isoformat()}' AND checked_in_at < '{upper.isoformat()}')"
            )
            conn.exec_driver_sql(
                f"ALTER TABLE events.checkins ATTACH PARTITION {part} "
                f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
            )
            conn.exec_driver_sql(f"ALTER TABLE {part} DROP CONSTRAINT bench_bounds")
        say(f"build: day {i + 1}/{args.days} {day}: {n:,} check-ins, indexed", time.perf_counter() - t0)
    with engine.begin() as conn:
        batch = conn.exec_driver_sql(BATCH, {"feed": "cases", "name": "bench-cases", "rows": args.f0}).scalar()
        conn.exec_driver_sql(CASES, {"batch": batch, "people": args.people, "day": LAST_DAY, "f0": args.f0})
        conn.exec_driver_sql(
            "CREATE TABLE bench_trace_size AS SELECT %(people)s::bigint AS people, "
            "%(venues)s::bigint AS venues, %(checkins)s::bigint AS checkins, %(days)s::int AS days, "
            "%(f0)s::int AS f0, %(zipf)s::float8 AS zipf",
            sizes(args),
        )
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    say("build: VACUUM ANALYZE", time.perf_counter() - t0)
    say(f"BUILD the synthetic province ({args.checkins:,} check-ins)", time.perf_counter() - started)


def backend_memory(pid: int) -> tuple[int | None, int | None]:
    """VmHWM (peak resident, shared buffers touched included) and RssAnon (private) of a server backend, bytes."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None, None
    found = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "RssAnon"):
            found[key] = int(value.split()[0]) * 1024
    return found.get("VmHWM"), found.get("RssAnon")


def mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:,.0f} MB"


def reference(conn: Connection, p: dict[str, Any], cases: list[str]) -> tuple[float, int]:
    with conn.begin():
        conn.exec_driver_sql("SET LOCAL jit = off")  # as the engine runs (JIT dominated short statements)
        t0 = time.perf_counter()
        n = conn.exec_driver_sql(REFERENCE, {**p, "cases": cases}).scalar_one()
        return time.perf_counter() - t0, n


def exposures(conn: Connection, ruleset: str, cases: list[str]) -> int:
    return conn.exec_driver_sql(
        "SELECT count(*) FROM trace.exposure WHERE ruleset_id = %(r)s AND case_id = ANY (%(c)s::text[])",
        {"r": ruleset, "c": cases},
    ).scalar_one()


def explain(conn: Connection, rules, settings, cases: list[str], label: str, min_ms: int, log: Path, **kw: Any) -> None:
    """The plans (EXPLAIN ANALYZE, BUFFERS) of the trace's statements that take over min_ms, logged by auto_explain
    to the server log and printed from it; rolled back, after the measurements (its timing overhead is not in them)."""
    with conn.begin() as tx:
        conn.exec_driver_sql("LOAD 'auto_explain'")
        for setting, value in (
            ("log_min_duration", f"{min_ms}ms"),
            ("log_analyze", "on"),
            ("log_buffers", "on"),
            ("log_timing", "on"),
            ("log_level", "log"),
        ):
            conn.exec_driver_sql(f"SET LOCAL auto_explain.{setting} = '{value}'")
        conn.exec_driver_sql("SET LOCAL log_min_duration_statement = 0")  # every statement's time, DDL included
        start = log.stat().st_size
        t0 = time.perf_counter()
        trace_in(conn, rules, settings, cases=cases, **kw)
        say(f"EXPLAIN {label} (auto_explain on, rolled back)", time.perf_counter() - t0)
        tx.rollback()
    time.sleep(0.5)  # the log collector's write
    with open(log, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        print(f.read(), flush=True)


def measure(engine: Engine, args, command: str) -> None:
    rules, settings = load_trace_rules(DEFAULT_TRACE_RULESET), TraceSettings()
    p = {"before_days": rules.window_before_days, "tz": settings.timezone, "minutes": rules.covisit_minutes}
    cases = [f"F0-{i}" for i in range(1, args.f0 + 1)]
    rows: list[tuple[str, str, str, str]] = []
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        conn.commit()
        # a previous run's batch is removed, so every run starts from the built province
        with conn.begin():
            conn.exec_driver_sql(
                "DELETE FROM events.checkins WHERE batch_id IN "
                "(SELECT id FROM ingest.batch WHERE file_name = 'bench-batch')"
            )
            conn.exec_driver_sql("DELETE FROM ingest.batch WHERE file_name = 'bench-batch'")
            # and its trace, so the F0 of (a) are new ones (not a re-trace, which rewrites only what changed)
            conn.exec_driver_sql(
                "TRUNCATE trace.exposure_kept, trace.visit, trace.case_window, trace.location, trace.run"
            )
        # (a) all F0 (committed: the visits are the base of (c))
        la = load()
        with conn.begin():
            t0 = time.perf_counter()
            s = trace_in(conn, rules, settings, cases=cases)
            a_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            a_x = exposures(conn, rules.id, cases)
            read_s = time.perf_counter() - t0
        ref_s, ref_n = reference(conn, p, cases)
        say(
            f"(a) trace {len(cases):,} new F0",
            a_s,
            f"{s.visits:,} visits, {a_x:,} exposures, {s.contacts:,} contacts, {s.locations:,} locations",
        )
        say("    reference: plain indexed self-join, same F0", ref_s, f"{ref_n:,} exposures")
        say("    reading their exposures (count(*) of the view trace.exposure)", read_s, "not in (a)")
        rows.append((f"(a) all exposures of {len(cases):,} new F0", f"{a_s:.2f} s ({la})", "≤ 2 s", f"{ref_s:.2f} s"))
        # (b) one F0: the median of 20 different F0, each rolled back
        singles, refs = [], []
        for case in cases[:SINGLE_RUNS]:
            tx = conn.begin()
            t0 = time.perf_counter()
            trace_in(conn, rules, settings, cases=[case])
            singles.append(time.perf_counter() - t0)
            tx.rollback()
            refs.append(reference(conn, p, [case])[0])
        b_s, b_ref = statistics.median(singles), statistics.median(refs)
        say(f"(b) one F0, median of {len(singles)}", b_s, f"(min {min(singles):.3f}, max {max(singles):.3f})")
        say("    reference: plain indexed self-join, same F0", b_ref)
        rows.append(
            (
                f"(b) one F0 (median of {len(singles)})",
                f"{b_s * 1000:.0f} ms ({load()})",
                "≤ 50 ms",
                f"{b_ref * 1000:.0f} ms",
            )
        )
        # (c) a 100,000-row check-ins batch on the last day, inserted with its batch id as the pipeline does
        with conn.begin():
            lower = conn.exec_driver_sql(
                "SELECT %(d)s::timestamp AT TIME ZONE %(tz)s", {"d": LAST_DAY, "tz": settings.timezone}
            ).scalar_one()
            batch = conn.exec_driver_sql(BATCH, {"feed": "checkins", "name": "bench-batch", "rows": args.batch})
            batch = batch.scalar_one()
            t0 = time.perf_counter()
            conn.exec_driver_sql(
                CHECKINS_DAY.format(part="events.checkins"),
                {
                    "tag": f"B{batch}",
                    "lower": lower,
                    "people": args.people,
                    "venues": args.venues,
                    "s": args.zipf,
                    "batch": batch,
                    "n": args.batch,
                },
            )
        say(f"    insert a {args.batch:,}-row check-ins batch (not timed in (c))", time.perf_counter() - t0)
        lc = load()
        t0 = time.perf_counter()
        touched = cases_touched_by_batch(engine, "checkins", batch, rules, settings)
        t_touch = time.perf_counter() - t0
        with conn.begin():
            s = trace_in(conn, rules, settings, cases=touched, trigger="batch", batch_id=batch)
        c_s = time.perf_counter() - t0
        with conn.begin():
            c_x = exposures(conn, rules.id, touched)
        say(
            f"(c) incremental trace after the {args.batch:,}-row batch",
            c_s,
            f"{len(touched):,} cases touched ({t_touch:.2f} s to find), {s.contacts:,} contacts, "
            f"{c_x:,} exposures of the touched F0",
        )
        ref_c, ref_cn = reference(conn, p, touched) if touched else (0.0, 0)
        say("    reference: plain indexed self-join, touched F0", ref_c, f"{ref_cn:,} exposures of the touched F0")
        rows.append(
            (
                f"(c) incremental after a {args.batch:,}-row batch",
                f"{c_s:.2f} s ({lc})",
                "≤ 1 s",
                f"{ref_c:.2f} s (touched F0)",
            )
        )
        hwm, anon = backend_memory(pid)
        if args.explain or a_s > 2:
            explain(conn, rules, settings, cases, f"(a) {len(cases):,} F0", 50, args.log)
        if args.explain or b_s > 0.05:
            explain(conn, rules, settings, cases[:1], "(b) one F0", 3, args.log)
        if (args.explain or c_s > 1) and touched:  # the batch's trace again (its exposures there: conflicts)
            kw = {"trigger": "batch", "batch_id": batch}
            explain(conn, rules, settings, touched, "(c) the batch's touched F0 again", 50, args.log, **kw)
    py = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows.append(("(d) peak memory, Python process (ru_maxrss)", mb(py), "≤ 1 GB", ""))
    rows.append(("(d) peak memory, server backend (VmHWM; RssAnon)", f"{mb(hwm)}; {mb(anon)}", "≤ 1 GB", ""))
    size = f"{args.people:,} people, {args.venues:,} venues, {args.checkins:,} check-ins / {args.days} days"
    print(f"\nTrace benchmark — {size}, {args.f0:,} F0, Zipf s={args.zipf}, rule set {rules.id}")
    print(f"command: {command}")
    print(f"{'figure':<52} {'measured (load 1/5/15 min)':<34} {'goal':<8} reference self-join")
    for label, value, goal, ref in rows:
        print(f"{label:<52} {value:<34} {goal:<8} {ref}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=3_000_000)
    parser.add_argument("--venues", type=int, default=50_000)
    parser.add_argument("--checkins", type=int, default=30_000_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--f0", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=BATCH_ROWS, help="Rows of the incremental check-ins batch.")
    parser.add_argument("--zipf", type=float, default=0.8, help="Zipf exponent s of venue popularity (< 1).")
    parser.add_argument(
        "--explain", action="store_true", help="Print the plans of the slow statements (also when (a) or (b) misses)."
    )
    parser.add_argument("--quick", action="store_true", help=f"A small province (< 2 minutes): {QUICK}.")
    parser.add_argument("--port", type=int, help="Port of the benchmark's cluster (default: a free one).")
    parser.add_argument("--data", type=Path, help="Keep the cluster in this folder and reuse it on the next run.")
    args = parser.parse_args()
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)
        args.batch = min(args.batch, 10_000)
    if not 0 < args.zipf < 1:
        parser.error("--zipf must be between 0 and 1 (exclusive)")
    command = "python benchmarks/trace.py " + " ".join(sys.argv[1:])

    top = args.data or Path(tempfile.mkdtemp(prefix="covidgis-bench-trace-"))
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    cluster = Cluster(
        data_dir=top / "data",
        socket_dir=top / "sock",
        port=args.port or free_port(),
        server_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=1GB "
        "-c work_mem=64MB -c max_wal_size=8GB",
    )
    try:
        cluster.start()
        url = cluster.url(DATABASE)
        args.log = cluster.log_file
        ensure_database(url)
        engine = make_engine(url)
        stored = stored_sizes(engine)
        if stored != sizes(args):  # none yet, a build cut short, or other sizes: built afresh
            print(f"building the province ({sizes(args)}; stored: {stored})", flush=True)
            engine.dispose()
            drop_database(url)
            ensure_database(url)
            engine = make_engine(url)
            upgrade(engine)
            build(engine, args, TraceSettings().timezone)
        else:
            print(f"reusing the built province in {top}", flush=True)
            upgrade(engine)  # migrations added since the build
        measure(engine, args, command)
        engine.dispose()
    finally:
        cluster.stop()
        if not args.data:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
