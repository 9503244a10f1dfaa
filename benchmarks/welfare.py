"""Welfare at a province of 1 M households (issue 14, "Speed"), with references in the same run.

    .venv/bin/python benchmarks/welfare.py [--households N] [--data DIR] [--threads 16] [--duration 20] [--no-http]

A cluster the benchmark starts (in DIR with --data: a second run of the same size reuses it) holds the database
`covidgis_bench_welfare`: Đồng Nai's boundaries, a zone level 1–4 for every hamlet on the day (risk.zone of the
published rule set), N households generated in SQL (1–6 members each, ~3.5 on average, in events.households as the
feed writes them; ~30 per cent poor or near-poor) and deliveries of the programme to 40 per cent of those. Prints,
with the load average beside each figure:
  (a) the not-yet-reached list of every commune (gis.welfare.unreached over the province, the households in order
      with their summary), goal ≤ 5 s; and of one commune; reference: a plain SELECT of as many household rows;
  (b) eligibility of all N households: the verdicts counted in SQL (the statement `unreached` and `eligible` use),
      the coverage of every shipped programme per hamlet (`covidgis welfare coverage`, the public layer's counts),
      and `eligible` as the CLI runs it (with the per-household reasons built in Python);
      reference: a plain SELECT count(*) over the same join (welfare.household ⟕ risk.zone);
  (c) recording deliveries of a per-day programme under T concurrent officers (each scoped to a commune; every
      delivery a new person-day, so each is written after its full duplicate check):
      POST /welfare/api/deliveries over HTTP (`covidgis serve`), record_delivery() called directly, and the
      reference, a plain INSERT INTO welfare.delivery; median and p95; goal ≤ 20 ms median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import BIN, free_port, start  # noqa: E402
from gis.boundaries.dataset import read_manifest  # noqa: E402
from gis.boundaries.load import prepare, store  # noqa: E402
from gis.db.cluster import Cluster  # noqa: E402
from gis.db.engine import ensure_database  # noqa: E402
from gis.db.migrate import upgrade  # noqa: E402
from gis.serve.users import add_user  # noqa: E402
from gis.sqlfiles import compose, load  # noqa: E402
from gis.welfare.coverage import refresh_coverage  # noqa: E402
from gis.welfare.errors import DeliveryRefused  # noqa: E402
from gis.welfare.ledger import Delivery, new_distribution_id, record_delivery  # noqa: E402
from gis.welfare.programmes import eligible, load_programme, verdict_sql  # noqa: E402
from gis.welfare.settings import WelfareSettings  # noqa: E402
from gis.welfare.unreached import unreached  # noqa: E402

DATABASE = "covidgis_bench_welfare"
PROGRAMME = "dongnai-4346-2021-poor-near-poor"  # cash per household, once in 2021, dedup person and household
RECORDED = "vn-68-2021-f0-f1-meals"  # cash per person per day, dedup person: a delivery claims every member
DAY = dt.date(2021, 8, 20)
TZ = "+07:00"
WELFARE_SQL = load(ROOT / "gis" / "welfare" / "sql" / "welfare.sql")

ZONES = """
INSERT INTO risk.zone (ruleset_id, day, area_code, admin_level, ruleset_version, level, colour, label_vi, label_en,
                       computed_level, reasons, decisive, inputs)
SELECT p.ruleset_id, %(day)s, a.code, 4, 'bench', l, 'red', 'Cấp ' || l, 'Level ' || l, l, '[]', '{}', '{}'
FROM admin.area a CROSS JOIN risk.published p
CROSS JOIN LATERAL (SELECT 1 + abs(hashtext(a.code)) %% 4 AS l) x
WHERE a.level = 4 AND a.valid_to IS NULL AND p.id
ON CONFLICT DO NOTHING
"""
# One row per member; household g lives in hamlet g mod (hamlets); flags from a hash of g (the head's row and the
# members' rows agree, as the feed's would).
HOUSEHOLDS = """
WITH hamlets AS (
    SELECT array_agg(code ORDER BY code) AS code, array_agg(parent_code ORDER BY code) AS commune
    FROM admin.area WHERE level = 4 AND valid_to IS NULL
), h AS (
    SELECT g, 1 + (g::bigint * 7919) %% 6 AS size, abs(hashtext('w' || g)) AS r,
           1 + g %% array_length(hamlets.code, 1) AS i, hamlets.code, hamlets.commune
    FROM generate_series(%(first)s, %(last)s) g, hamlets
)
INSERT INTO events.households (household_id, person_key, role, size, address, poor, near_poor, elderly_alone,
                               disabled, lost_income, migrant_worker, covid_household, area_code, commune_code,
                               batch_id, row_hash)
SELECT 'H' || h.g, 'P' || h.g || '-' || m, CASE WHEN m = 1 THEN 'head' ELSE 'member' END, h.size,
       'Số ' || h.g, h.r %% 10 < 2, h.r %% 10 = 2, h.r %% 17 = 0, h.r %% 13 = 0, h.r %% 5 = 0, h.r %% 7 = 0,
       h.r %% 11 = 0, h.code[h.i], h.commune[h.i], 0, ''
FROM h CROSS JOIN LATERAL generate_series(1, h.size) m
"""
DELIVERIES = """
INSERT INTO welfare.delivery (distribution_id, programme, period_start, household_id, area_code, commune_code,
                              amount_vnd, at, day, officer)
SELECT 'B-' || h.household_id, %(programme)s, %(period_start)s, h.household_id, h.area_code, h.commune_code,
       1500000, %(at)s, %(day)s, 'bench'
FROM welfare.household h
WHERE (h.poor OR h.near_poor) AND abs(hashtext('d' || h.household_id)) %% 10 < 4
"""
CLAIMS = """
INSERT INTO welfare.delivery_claim (programme, period_start, subject, subject_key, distribution_id)
SELECT d.programme, d.period_start, 'household', d.household_id, d.distribution_id FROM welfare.delivery d
UNION ALL
SELECT d.programme, d.period_start, 'person', m.person_key, d.distribution_id
FROM welfare.delivery d JOIN events.households m ON m.household_id = d.household_id
ON CONFLICT DO NOTHING
"""
# The list's reference: as many rows of the same columns, read as they are stored (no decision, no order).
PLAIN_ROWS = """
SELECT h.household_id, h.area_code, h.commune_code, h.size, h.members, h.poor, h.near_poor, h.elderly_alone,
       h.disabled, h.lost_income, h.migrant_worker, h.covid_household
FROM welfare.household h LIMIT %(n)s
"""
PLAIN_JOIN = """
SELECT count(*) FROM welfare.household h
LEFT JOIN risk.zone z ON z.ruleset_id = (SELECT p.ruleset_id FROM risk.published p WHERE p.id)
                     AND z.day = %(day)s AND z.area_code = h.area_code
"""
VERDICTS = """
SELECT v, count(*) FROM (
    SELECT ({verdict}) AS v FROM welfare.household h
    LEFT JOIN risk.zone z ON z.ruleset_id = (SELECT p.ruleset_id FROM risk.published p WHERE p.id)
                         AND z.day = %(day)s AND z.area_code = h.area_code) x
GROUP BY v
"""
COMMUNE_HOUSEHOLDS = """
SELECT h.commune_code, array_agg(h.household_id ORDER BY h.household_id)
FROM welfare.household h WHERE h.commune_code IS NOT NULL
GROUP BY h.commune_code ORDER BY count(*) DESC, h.commune_code LIMIT %(n)s
"""
LAST_DAY = "SELECT max(day) FROM welfare.delivery WHERE programme = %(programme)s"
PLAIN_INSERT = """
INSERT INTO welfare.delivery (distribution_id, programme, period_start, household_id, area_code, commune_code,
                              amount_vnd, at, day, officer)
VALUES (%(id)s, 'reference', %(day)s, %(household)s, NULL, NULL, 1500000, now(), %(day)s, 'bench')
"""


def load_avg() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def timed(fn, *args, **kw):
    t = time.perf_counter()
    value = fn(*args, **kw)
    return time.perf_counter() - t, value


def stored_households(engine: Engine) -> int | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT count(DISTINCT household_id) FROM events.households")).scalar()
        except Exception:
            return None


def build(engine: Engine, households: int) -> None:
    t0 = time.perf_counter()
    ds = read_manifest(ROOT / "boundaries" / "dongnai")
    store(engine, ds, prepare(ds))
    programme = load_programme(PROGRAMME)
    with engine.begin() as conn:
        conn.exec_driver_sql(ZONES, {"day": DAY})
        step = 250_000
        for first in range(1, households + 1, step):
            conn.exec_driver_sql(HOUSEHOLDS, {"first": first, "last": min(households, first + step - 1)})
    with engine.begin() as conn:
        conn.exec_driver_sql(
            DELIVERIES,
            {
                "programme": programme.id,
                "period_start": programme.period_start(DAY),
                "at": f"2021-08-05T10:00{TZ}",
                "day": dt.date(2021, 8, 5),
            },
        )
        conn.exec_driver_sql(CLAIMS)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"built {households:,} households in {time.perf_counter() - t0:.0f} s", flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run_threads(threads: int, duration: float, work) -> tuple[int, int, list[float]]:
    """work(thread, i, state) from every thread until the time is up: (done, errors, latencies in s)."""
    stop = time.monotonic() + duration
    done, errors, latencies, lock = [0], [0], [], threading.Lock()

    def loop(n: int) -> None:
        mine: list[float] = []
        bad = i = 0
        state: dict = {}
        while time.monotonic() < stop:
            t = time.perf_counter()
            ok = work(n, i, state)
            mine.append(time.perf_counter() - t)
            bad += not ok
            i += 1
        with lock:
            done[0] += len(mine)
            errors[0] += bad
            latencies.extend(mine)

    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done[0], errors[0], latencies


def report(name: str, duration: float, result: tuple[int, int, list[float]]) -> None:
    done, errors, lat = result
    print(
        f"  {name:<28} {done / duration:8.1f} /s  {done} done  {errors} errors  "
        f"median {statistics.median(lat) * 1000 if lat else float('nan'):6.1f} ms  "
        f"p95 {percentile(lat, 0.95) * 1000:6.1f} ms  ({load_avg()})",
        flush=True,
    )


def measure_lists(engine: Engine, households: int) -> None:
    programme = load_programme(PROGRAMME)
    days = WelfareSettings().unreached_days
    print(f"(a) not yet reached, {programme.id} on {DAY}, {days} days:", flush=True)
    for _ in range(2):  # the second run with a warm cache
        seconds, result = timed(unreached, engine, programme, DAY, days)
        print(
            f"  every commune: {seconds:6.2f} s  {result.unreached:,} households in {len(result.by_commune)} "
            f"communes  ({load_avg()})",
            flush=True,
        )
    with engine.connect() as conn:
        seconds, fetched = timed(lambda: conn.exec_driver_sql(PLAIN_ROWS, {"n": result.unreached}).all())
    print(f"  reference: a plain SELECT of as many household rows  {seconds:6.2f} s  {len(fetched):,} rows  "
          f"({load_avg()})", flush=True)  # fmt: skip
    commune = max(result.by_commune, key=lambda c: result.by_commune[c])
    seconds, one = timed(unreached, engine, programme, DAY, days, commune)
    print(f"  one commune ({commune}): {seconds:6.2f} s  {one.unreached:,} households  ({load_avg()})", flush=True)

    print(f"(b) eligibility of all {households:,} households:", flush=True)
    with engine.connect() as conn:
        seconds, plain = timed(lambda: conn.exec_driver_sql(PLAIN_JOIN, {"day": DAY}).scalar())
        print(f"  reference: plain count(*) over the join  {seconds:6.2f} s  {plain:,} rows  ({load_avg()})")
        statement = compose(conn, VERDICTS, verdict=verdict_sql(programme, DAY))
        seconds, counts = timed(lambda: dict(conn.exec_driver_sql(statement, {"day": DAY}).all()))
        print(f"  verdicts counted in SQL               {seconds:6.2f} s  {counts}  ({load_avg()})", flush=True)
    seconds, covered = timed(refresh_coverage, engine, DAY, days)
    print(
        f"  coverage of every programme (welfare coverage: {len(covered.programmes)} counted, "
        f"{len(covered.skipped)} not begun) {seconds:6.2f} s  ({load_avg()})",
        flush=True,
    )
    seconds, result = timed(eligible, engine, programme, DAY)
    print(
        f"  eligible() with per-household reasons {seconds:6.2f} s  eligible {result.eligible:,}, not "
        f"{result.not_eligible:,}, to confirm {result.to_confirm:,}  ({load_avg()})",
        flush=True,
    )


def measure_recording(engine: Engine, url: str, top: Path, threads: int, duration: float, http: bool) -> None:
    """Deliveries of a per-day programme (dedup person: every member's key claimed), each officer in a commune of
    their own, to that commune's households in turn, one day after another: each delivery is a new (person, day),
    so every one is written with its full duplicate check. The POSTs take the first day no earlier run used,
    record_delivery() the day after (inside the programme's period: a run reusing --data takes two more days)."""
    programme = load_programme(RECORDED)
    settings = WelfareSettings()
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(COMMUNE_HOUSEHOLDS, {"n": threads}).all()
        last = conn.exec_driver_sql(LAST_DAY, {"programme": programme.id}).scalar()
    # days no earlier run used (a run takes less than a day of each commune's households per officer)
    first = max(programme.period.from_, (last or programme.period.from_) + dt.timedelta(days=1))
    communes = [r[0] for r in rows]
    queues = [r[1] for r in rows]
    run_tag = f"{time.time_ns():x}"
    print(f"(c) recording {programme.id} deliveries, {threads} officers in {len(communes)} communes, {duration:.0f} s:")

    def pick(n: int, state: dict, first: dt.date) -> tuple[str, str]:
        k = state.setdefault("next", 0)
        state["next"] += 1
        households = queues[n]
        day = first + dt.timedelta(days=k // len(households))
        return households[k % len(households)], f"{day.isoformat()}T10:00{TZ}"

    def direct(n: int, i: int, state: dict) -> bool:
        household, at = pick(n, state, first + dt.timedelta(days=1))
        delivery = Delivery(new_distribution_id(), programme.id, household, dt.datetime.fromisoformat(at), f"cb.{n}",
                            amount_vnd=80_000)  # fmt: skip
        try:
            record_delivery(engine, programme, delivery, settings, scope=communes[n])
        except DeliveryRefused:
            return False
        return True

    def plain(n: int, i: int, state: dict) -> bool:
        if "conn" not in state:
            state["conn"] = engine.raw_connection()
        conn = state["conn"]
        with conn.cursor() as cur:
            cur.execute(PLAIN_INSERT, {"id": f"R-{run_tag}-{n}-{i}", "day": DAY, "household": f"H{i}"})
        conn.commit()
        return True

    if http:
        tokens = [add_user(engine, f"bench-{run_tag}-{n}", "welfare", communes[n]) for n in range(threads)]
        port = free_port()
        env = {"DATABASE_URL": url, "COVIDGIS_PORT": str(port), "COVIDGIS_VAR_DIR": str(top / "var")}
        subprocess.run([str(BIN / "covidgis"), "zones", "publish"], env={**os.environ, **env}, check=True,
                       capture_output=True)  # fmt: skip
        proc = start([str(BIN / "covidgis"), "serve"], env, f"http://127.0.0.1:{port}/health", top / "serve.log")
        endpoint = f"http://127.0.0.1:{port}/welfare/api/deliveries"

        def post(n: int, i: int, state: dict) -> bool:
            session = state.setdefault("session", requests.Session())
            household, at = pick(n, state, first)
            body = {"programme": programme.id, "household_id": household, "at": at, "amount_vnd": 80_000}
            headers = {"Authorization": f"Bearer {tokens[n]}"}
            try:
                return session.post(endpoint, json=body, headers=headers, timeout=10).status_code == 201
            except requests.RequestException:
                return False

        try:
            report("POST /welfare/api/deliveries", duration, run_threads(threads, duration, post))
        finally:
            proc.terminate()
            proc.wait(15)
    report("record_delivery() direct", duration, run_threads(threads, duration, direct))
    report("plain INSERT (reference)", duration, run_threads(threads, duration, plain))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20, help="Seconds of each recording run.")
    parser.add_argument("--no-http", dest="http", action="store_false", help="Skip the POSTs over HTTP.")
    parser.add_argument("--data", type=Path, help="Keep the cluster in this folder and reuse it on the next run.")
    args = parser.parse_args()
    top = args.data or Path(tempfile.mkdtemp(prefix="covidgis-bench-welfare-"))
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    cluster = Cluster(
        data_dir=top / "data",
        socket_dir=top / "sock",
        port=free_port(),
        server_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB "
        "-c work_mem=64MB -c max_wal_size=4GB -c max_connections=100",
    )
    try:
        cluster.start()
        url = cluster.url(DATABASE)
        ensure_database(url)
        engine = create_engine(url, pool_pre_ping=True, pool_size=args.threads + 2, max_overflow=4)
        upgrade(engine)
        stored = stored_households(engine)
        if stored != args.households:
            if stored:
                raise SystemExit(f"{top} holds {stored:,} households, not {args.households:,}: use another --data")
            build(engine, args.households)
        else:
            print(f"reusing {stored:,} households in {top}", flush=True)
        print(f"python benchmarks/welfare.py {' '.join(sys.argv[1:])}  ({load_avg()}, {os.cpu_count()} cores)")
        measure_lists(engine, args.households)
        measure_recording(engine, url, top, args.threads, args.duration, args.http)
        engine.dispose()
    finally:
        cluster.stop()
        if not args.data:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
