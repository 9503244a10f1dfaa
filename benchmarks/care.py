"""Care at a province's peak (issue 13, "Speed"): 100,000 patients under care, with references in the same run.

    .venv/bin/python benchmarks/care.py [--patients N] [--calls 200] [--data DIR]

A cluster the benchmark starts (in DIR with --data: a second run of the same size reuses it) holds the database
`covidgis_bench_care`, generated in SQL as the feeds would write it: 500 facilities in Đồng Nai's extent (250 of
tier 1, 120 of tier 2, 30 of tier 3, 100 quarantine) with rooms of f0 / mixed / f1 kind and m / f / any sex (~150 k
beds, some unstaffed); admissions for 1.5 × N people since 15 Jul 2021: N under care now (70 per cent at tier 1, 20 at
tier 2, 2 at tier 3, 8 F1 in quarantine; one in five moved once), the rest discharged or dead; and one
observations batch of N observations (one per patient on 21 Aug, a few per cent with low SpO2 or fast breathing).
Prints, with the load average beside each figure:
  (a) the observations batch classified by the clinical rules and its transfer requests opened (classify_batch, one
      transaction), goal ≤ 2 s; reference: a plain INSERT … SELECT of the batch's rows into a temporary table;
  (b) nearest-free-bed (gis.care.transfers.nearest_free_bed) at random points and tiers, median and p95, goal
      ≤ 50 ms median; reference: the same offers counted from the whole replay per call (care.stay, as before
      migration 0020's care.current_stay), and a check that both give the same facilities;
  (c) occupancy of every room, facility, tier and commune at the end of a past day (gis.care.occupancy), goal
      ≤ 1 s; reference: the bare replay counted (SELECT count(*) FROM care.stay);
  (d) what keeping care.current_stay costs a batch of admissions: 10,000 new admits inserted with the triggers,
      and without them (the reference), each rolled back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import free_port  # noqa: E402
from gis.care.occupancy import end_of_day, occupancy  # noqa: E402
from gis.care.rules import load_clinical_rules  # noqa: E402
from gis.care.settings import CareSettings  # noqa: E402
from gis.care.transfers import classify_batch, nearest_free_bed  # noqa: E402
from gis.db.cluster import Cluster  # noqa: E402
from gis.db.engine import ensure_database, make_engine  # noqa: E402
from gis.db.migrate import upgrade  # noqa: E402
from gis.ingest.statements import statement  # noqa: E402

DATABASE = "covidgis_bench_care"
TZ = "Asia/Ho_Chi_Minh"
PAST_DAY = dt.date(2021, 8, 10)
BBOX = (106.75, 10.5, 107.55, 11.55)  # Đồng Nai's extent, roughly

FACILITIES = """
INSERT INTO events.facilities (facility_id, kind, name, tier, geom, batch_id, row_hash)
SELECT 'F' || g, CASE WHEN g <= 400 THEN 'treatment' ELSE 'quarantine' END, 'Cơ sở ' || g,
       CASE WHEN g <= 250 THEN 1 WHEN g <= 370 THEN 2 WHEN g <= 400 THEN 3 END,
       ST_SetSRID(ST_MakePoint(106.75 + 0.8 * (abs(hashtext('x' || g)) %% 10000) / 10000.0,
                               10.5 + 1.05 * (abs(hashtext('y' || g)) %% 10000) / 10000.0), 4326), 0, ''
FROM generate_series(1, 500) g
"""
# rooms per facility and beds per room by tier (quarantine: 30 rooms of 10); every fifth treatment room mixed
ROOMS = """
INSERT INTO events.rooms (facility_id, room_id, kind, sex, beds, staffed_beds, cleaning_days, batch_id, row_hash)
SELECT f.facility_id, 'R' || n, CASE WHEN f.kind = 'quarantine' THEN 'f1' WHEN n %% 5 = 0 THEN 'mixed' ELSE 'f0' END,
       (ARRAY['m', 'f', 'any'])[1 + n %% 3], s.beds, s.beds - abs(hashtext(f.facility_id || n)) %% 3, 1, 0, ''
FROM events.facilities f
CROSS JOIN LATERAL (SELECT CASE f.tier WHEN 1 THEN 40 WHEN 2 THEN 20 WHEN 3 THEN 10 ELSE 30 END AS rooms,
                           CASE f.tier WHEN 1 THEN 12 WHEN 2 THEN 10 WHEN 3 THEN 8 ELSE 10 END AS beds) s
CROSS JOIN LATERAL generate_series(1, s.rooms) n
"""
# Person p: under care now when p <= N (its place from p: tier 1, 2, 3 or quarantine), else discharged or dead.
# Where a person is: facility and room from p, in the facility ranges above.
PEOPLE = """
CREATE TEMP TABLE person ON COMMIT DROP AS
SELECT p, 'P' || p AS person_key, p <= %(n)s AS current,
       timestamptz '2021-07-15 00:00+07' + ((p * 7919) %% 50000) * interval '1 minute' AS admit_at,
       CASE WHEN b < 70 THEN 1 + p %% 250 WHEN b < 90 THEN 251 + p %% 120 WHEN b < 92 THEN 371 + p %% 30
            ELSE 401 + p %% 100 END AS facility,
       CASE WHEN b < 70 THEN 40 WHEN b < 90 THEN 20 WHEN b < 92 THEN 10 ELSE 30 END AS rooms,
       b >= 92 AS quarantined
FROM generate_series(1, %(n)s * 3 / 2) p
CROSS JOIN LATERAL (SELECT abs(hashtext('b' || p)) %% 100 AS b) x
"""
ADMISSIONS = """
INSERT INTO events.admissions (event_id, person_key, role, event, facility_id, room_id, at, batch_id, row_hash)
SELECT 'A' || p, person_key, CASE WHEN quarantined THEN 'f1' ELSE 'f0' END, 'admit',
       CASE WHEN current AND p %% 5 = 0 AND NOT quarantined THEN 'F' || (1 + p %% 250) ELSE 'F' || facility END,
       'R' || (1 + (p / 500) %% rooms), admit_at, 0, ''
FROM person
UNION ALL  -- one in five of those under care moved once, two days after the admit
SELECT 'M' || p, person_key, 'f0', 'move', 'F' || facility, 'R' || (1 + (p / 500) %% rooms),
       admit_at + interval '2 days', 0, ''
FROM person WHERE current AND p %% 5 = 0 AND NOT quarantined
UNION ALL  -- the others left after ten days: discharged, a few died
SELECT 'D' || p, person_key, CASE WHEN quarantined THEN 'f1' ELSE 'f0' END,
       CASE WHEN p %% 33 = 0 THEN 'died' ELSE 'discharge' END, 'F' || facility, 'R' || (1 + (p / 500) %% rooms),
       admit_at + interval '10 days', 0, ''
FROM person WHERE NOT current
"""
OBSERVATIONS = """
INSERT INTO events.observations (obs_id, person_key, at, spo2, resp_rate, pulse, temp_c, systolic_bp, conscious,
                                 symptoms, batch_id, row_hash)
SELECT 'O' || p || '-' || %(batch_id)s, person_key,
       timestamptz '2021-08-21 06:00+07' + (p %% 600) * interval '1 minute',
       CASE WHEN h < 3 THEN 91 WHEN h < 8 THEN 93 WHEN h < 20 THEN 95 ELSE 97 + p %% 3 END,
       CASE WHEN h %% 37 = 0 THEN 26 ELSE 16 + p %% 4 END, 70 + p %% 40, 36.5 + (p %% 20) / 10.0, 110 + p %% 30, true,
       CASE WHEN p %% 3 = 0 THEN NULL ELSE 'ho' END, %(batch_id)s, ''
FROM person CROSS JOIN LATERAL (SELECT abs(hashtext('o' || p)) %% 100 AS h) x
WHERE current
"""
PLAIN_COPY = """
CREATE TEMP TABLE plain_copy ON COMMIT DROP AS
SELECT o.obs_id, o.batch_id, o.person_key, o.at, o.spo2, o.resp_rate FROM events.observations o
WHERE o.batch_id = %(batch_id)s
"""
# The offers as they were counted before care.current_stay (migration 0020): every stay open now, from the replay.
REPLAY_FREE_ROOMS = """
WITH open_now AS (
    SELECT st.facility_id, st.room_id, count(*)::int AS occupied
    FROM care.stay st
    WHERE st.from_at <= now() AND (st.to_at IS NULL OR st.to_at > now())
    GROUP BY st.facility_id, st.room_id
), promised AS (
    SELECT t.to_facility AS facility_id, count(*)::int AS promised
    FROM care.transfer_request t WHERE t.status = 'accepted' GROUP BY t.to_facility
), free AS (
    SELECT r.facility_id, (sum(greatest(coalesce(r.staffed_beds, 0) - coalesce(o.occupied, 0), 0)))::int AS free
    FROM events.rooms r
    LEFT JOIN open_now o ON o.facility_id = r.facility_id AND o.room_id = r.room_id
    WHERE r.kind IN (%(kind)s, 'mixed')
      AND (%(sex)s::text IS NULL OR r.sex IS NULL OR r.sex IN ('any', %(sex)s::text))
    GROUP BY r.facility_id
)
SELECT f.facility_id, fr.free - coalesce(p.promised, 0) AS free_staffed_beds
FROM free fr
JOIN events.facilities f ON f.facility_id = fr.facility_id
LEFT JOIN promised p ON p.facility_id = fr.facility_id
WHERE f.kind = 'treatment' AND f.tier = %(tier)s AND fr.free - coalesce(p.promised, 0) > 0
ORDER BY round((ST_DistanceSphere(f.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) / 1000.0
               * %(detour)s)::numeric, 2) NULLS LAST, f.facility_id
LIMIT 5
"""
NEW_ADMITS = """
INSERT INTO events.admissions (event_id, person_key, role, event, facility_id, room_id, at, batch_id, row_hash)
SELECT 'N' || g, 'NEW' || g, 'f0', 'admit', 'F' || (1 + mod(g, 250)), 'R' || (1 + mod(g, 40)),
       timestamptz '2021-08-20 12:00+07', 0, ''
FROM generate_series(1, 10000) g
"""


def load_avg() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def timed(fn, *args, **kw):
    t = time.perf_counter()
    value = fn(*args, **kw)
    return time.perf_counter() - t, value


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def stored_patients(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM care.current_stay").scalar()


def build(engine: Engine, patients: int) -> None:
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(FACILITIES)
        conn.exec_driver_sql(ROOMS)
        conn.exec_driver_sql(PEOPLE, {"n": patients})
        conn.exec_driver_sql(ADMISSIONS)
        conn.exec_driver_sql("CREATE TABLE bench_person AS SELECT * FROM person")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"built {patients:,} patients in {time.perf_counter() - t0:.0f} s", flush=True)


def new_batch(engine: Engine) -> int:
    """A fresh observations batch of one observation per patient (the earlier batches' classes and requests gone)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE care.observation_class, care.transfer_request, events.observations")
        batch_id = conn.exec_driver_sql(
            statement("batch", "open_batch"), {"feed": "observations", "file_name": "bench.csv", "sha256": "bench"}
        ).scalar_one()
        conn.exec_driver_sql("CREATE TEMP TABLE person ON COMMIT DROP AS SELECT * FROM bench_person")
        conn.exec_driver_sql(OBSERVATIONS, {"batch_id": batch_id})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE events.observations")
    return batch_id


def measure_classify(engine: Engine, patients: int) -> None:
    rules = load_clinical_rules()
    print(f"(a) a batch of {patients:,} observations classified and its transfer requests opened:", flush=True)
    for attempt in ("cold", "warm"):
        batch_id = new_batch(engine)
        with engine.begin() as conn:
            seconds, _ = timed(conn.exec_driver_sql, PLAIN_COPY, {"batch_id": batch_id})
        print(f"  reference: plain INSERT … SELECT of the batch  {seconds:6.2f} s  ({load_avg()})", flush=True)
        seconds, summary = timed(classify_batch, engine, rules, batch_id, TZ)
        print(
            f"  classify_batch ({attempt})                      {seconds:6.2f} s  {summary.classified:,} classified, "
            f"{summary.requests_opened:,} requests {summary.requests_by_tier}, "
            f"{len(summary.findings)} not under care  ({load_avg()})",
            flush=True,
        )


def measure_nearest(engine: Engine, calls: int) -> None:
    settings = CareSettings()
    rng = random.Random(13)
    asks = [
        (rng.uniform(BBOX[0], BBOX[2]), rng.uniform(BBOX[1], BBOX[3]), rng.choice((1, 1, 1, 2, 2, 3)),
         rng.choice((None, "m", "f")))
        for _ in range(calls)
    ]  # fmt: skip
    print(f"(b) nearest-free-bed, {calls} calls at random points, tiers and sexes:", flush=True)
    for name in ("current_stay", "replay (reference)", "current_stay"):
        latencies: list[float] = []
        for lon, lat, tier, sex in asks:
            if name.startswith("replay"):
                params = {"lon": lon, "lat": lat, "tier": tier, "sex": sex, "kind": "f0", "detour": 1.3}
                with engine.connect() as conn:
                    t = time.perf_counter()
                    conn.exec_driver_sql(REPLAY_FREE_ROOMS, params).all()
                    latencies.append(time.perf_counter() - t)
            else:
                t = time.perf_counter()
                nearest_free_bed(engine, settings, lon, lat, tier, sex)
                latencies.append(time.perf_counter() - t)
        print(
            f"  {name:<20} median {statistics.median(latencies) * 1000:6.1f} ms  "
            f"p95 {percentile(latencies, 0.95) * 1000:6.1f} ms  ({load_avg()})",
            flush=True,
        )
    mismatches = 0
    for lon, lat, tier, sex in asks[:20]:  # the same answer both ways
        got = nearest_free_bed(engine, settings, lon, lat, tier, sex).facilities
        params = {"lon": lon, "lat": lat, "tier": tier, "sex": sex, "kind": "f0", "detour": 1.3}
        with engine.connect() as conn:
            want = [tuple(r) for r in conn.exec_driver_sql(REPLAY_FREE_ROOMS, params)]
        mismatches += [(f["facility_id"], f["free_staffed_beds"]) for f in got] != want
    print(f"  same offers as the replay: {20 - mismatches}/20", flush=True)


def measure_occupancy(engine: Engine) -> None:
    at = end_of_day(PAST_DAY, TZ)
    print(f"(c) occupancy of every facility at the end of {PAST_DAY}:", flush=True)
    with engine.connect() as conn:
        seconds, stays = timed(lambda: conn.exec_driver_sql("SELECT count(*) FROM care.stay").scalar())
    print(f"  reference: the bare replay counted   {seconds:6.2f} s  {stays:,} stays  ({load_avg()})", flush=True)
    for attempt in ("cold", "warm"):
        seconds, result = timed(occupancy, engine, at=at, day=PAST_DAY)
        occupied = sum(f["occupied"] for f in result.facilities)
        print(
            f"  occupancy() ({attempt})                 {seconds:6.2f} s  {len(result.facilities)} facilities, "
            f"{len(result.rooms):,} rooms, {occupied:,} people  ({load_avg()})",
            flush=True,
        )
    seconds, result = timed(occupancy, engine)
    print(f"  occupancy() live                     {seconds:6.2f} s  ({load_avg()})", flush=True)


def measure_triggers(engine: Engine) -> None:
    print("(d) a batch of 10,000 new admits inserted (rolled back):", flush=True)
    for name, disable in (("reference: triggers disabled", True), ("with care.current_stay kept", False)):
        with engine.connect() as conn:  # rolled back when it closes
            if disable:
                conn.exec_driver_sql("ALTER TABLE events.admissions DISABLE TRIGGER USER")
            seconds, _ = timed(conn.exec_driver_sql, NEW_ADMITS)
            conn.rollback()
        print(f"  {name:<30} {seconds:6.2f} s  ({load_avg()})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200, help="nearest-free-bed calls per run")
    parser.add_argument("--data", type=Path, help="Keep the cluster in this folder and reuse it on the next run.")
    args = parser.parse_args()
    top = args.data or Path(tempfile.mkdtemp(prefix="covidgis-bench-care-"))
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    cluster = Cluster(
        data_dir=top / "data",
        socket_dir=top / "sock",
        port=free_port(),
        server_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB "
        "-c work_mem=64MB -c max_wal_size=4GB",
    )
    try:
        cluster.start()
        url = cluster.url(DATABASE)
        ensure_database(url)
        engine = make_engine(url)
        upgrade(engine)
        stored = stored_patients(engine)
        if stored != args.patients:
            if stored:
                raise SystemExit(f"{top} holds {stored:,} patients, not {args.patients:,}: use another --data")
            build(engine, args.patients)
        else:
            print(f"reusing {stored:,} patients in {top}", flush=True)
        print(f"python benchmarks/care.py {' '.join(sys.argv[1:])}  ({load_avg()}, {os.cpu_count()} cores)")
        measure_classify(engine, args.patients)
        measure_nearest(engine, args.calls)
        measure_occupancy(engine)
        measure_triggers(engine)
        engine.dispose()
    finally:
        cluster.stop()
        if not args.data:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
