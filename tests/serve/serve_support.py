"""Shared fixtures of the serving tests: zones and events in the module's database, a server, tokens.

Imported by the tests/serve/test_serve_*.py modules (`from serve_support import *`); kept out of a conftest.py so
that `from conftest import ...` in other test modules keeps meaning tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from conftest import run_cli, running_server  # noqa: F401  (running_server: used by the serve tests)
from sqlalchemy import text
from support import put_indicators  # the same quiet baseline the zone tests use

from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones

DAYS = [dt.date(2021, 10, 19), dt.date(2021, 10, 20)]
TAN_PHONG = "25996"  # commune made orange on the last day
SMALL_HAMLET = "25996-01"  # hamlet with 2 community cases: a count below the suppression threshold
PUBLIC = [
    "areas",
    "zones",
    "zones-history",
    "facilities-public",
    "data-quality",
    "locations-of-interest",
    "locations-of-interest-withdrawn",
    "welfare-coverage",
    "treatment-capacity",
]
RESTRICTED = [
    "cases",
    "quarantine-facilities",
    "beds",
    "f1-orders",
    "transfers",
    "indicators",
    "ingest-rejects",
    "exposure-venues",
    "exposure-contacts",
    "lockdown-proposals",
    "trace-indicators",
]
PERSON_KEYS = [f"{i:02d}" + "9f3c1b2a7e5d4c6b8a0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f6a7"[2:] for i in range(3)]
CASE_POINTS = [(106.8234567, 10.9712345), (106.8345678, 10.9823456), (106.8456789, 10.9634567)]

EVENTS_SQL = """
INSERT INTO ingest.batch (id, feed, file_name, file_sha256, rows_read, accepted, rejected, started_at, finished_at)
OVERRIDING SYSTEM VALUE VALUES (1, 'cases', 'f0.csv', 'aa', 4, 3, 1, now(), now()),
                               (2, 'facilities', 'cs.csv', 'bb', 5, 5, 0, now(), now());
INSERT INTO events.cases (case_id, person_key, birth_year, sex, detected_on, detection_setting, geom, area_code,
                          commune_code, located_by, batch_id, row_hash)
SELECT 'BN' || i, pk, 1980 + i, 'female', '2021-10-18', 'community',
       ST_SetSRID(ST_MakePoint(lon, lat), 4326), '25996-01', '25996', 'point', 1, 'h' || i
FROM unnest(CAST(:keys AS text[]), CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY
     AS t(pk, lon, lat, i);
INSERT INTO events.facilities (facility_id, kind, name, tier, beds, rooms, occupied, geom, area_code, commune_code,
                               batch_id, row_hash) VALUES
  ('XN01', 'testing', 'Điểm xét nghiệm Tân Phong', NULL, NULL, NULL, NULL,
   ST_SetSRID(ST_MakePoint(106.821, 10.972), 4326), '25996', '25996', 2, 'f1'),
  ('TI01', 'vaccination', 'Điểm tiêm Trảng Dài', NULL, NULL, NULL, NULL,
   ST_SetSRID(ST_MakePoint(106.872, 10.991), 4326), '25993', '25993', 2, 'f2'),
  ('HH01', 'essential_goods', 'Điểm bán hàng thiết yếu Hố Nai', NULL, NULL, NULL, NULL,
   ST_SetSRID(ST_MakePoint(106.905, 10.968), 4326), '26002', '26002', 2, 'f3'),
  ('CL01', 'quarantine', 'Khu cách ly KTX Đại học Đồng Nai', NULL, 300, 150, 3,
   ST_SetSRID(ST_MakePoint(106.851, 10.955), 4326), '26026', '26026', 2, 'f4'),
  ('DT01', 'treatment', 'Bệnh viện dã chiến số 1', 2, 500, NULL, 2,
   ST_SetSRID(ST_MakePoint(106.861, 10.945), 4326), '26026', '26026', 2, 'f5');
INSERT INTO events.quarantine_stays (stay_id, person_key, facility_id, start_on, batch_id, row_hash)
VALUES ('Q1', :pk0, 'CL01', current_date - 3, 1, 'q1'), ('Q2', :pk1, 'CL01', current_date - 1, 1, 'q2');
INSERT INTO ingest.reject (batch_id, file_name, row_number, field, reason, message, record)
VALUES (1, 'f0.csv', 5, 'Ngày phát hiện', 'unparseable_date', 'Ngày phát hiện "31/02/2021" is not a date',
        CAST(:record AS jsonb));
"""


def compute(engine, days):
    return compute_zones(engine, days, load_ruleset("vn-4800-2021"), RiskSettings())


def fill_zones(engine) -> None:
    """Two days of zones: on the last, Tân Phong is orange and one of its hamlets has 2 community cases."""
    for day in DAYS:
        with engine.connect() as conn:
            pop = conn.execute(text("SELECT population FROM pub.areas WHERE code = :c"), {"c": TAN_PHONG}).scalar()
        hot = (
            {
                TAN_PHONG: {"community_cases_7d": int(pop * 60 / 100_000) + 1, "vaccinated_18plus_1dose": 0},
                SMALL_HAMLET: {"community_cases_7d": 2},
            }
            if day == DAYS[-1]
            else {}
        )
        put_indicators(engine, day, **hot)
        compute(engine, [day])


def fill_events(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(EVENTS_SQL),
            {
                "keys": PERSON_KEYS,
                "lons": [p[0] for p in CASE_POINTS],
                "lats": [p[1] for p in CASE_POINTS],
                "pk0": PERSON_KEYS[0],
                "pk1": PERSON_KEYS[1],
                "record": f'{{"Mã ca bệnh": "BN9", "person_key": "{PERSON_KEYS[2]}", "Ngày phát hiện": "31/02/2021"}}',
            },
        )


@pytest.fixture(scope="module")
def filled(engine):
    """The module's database with zones (two days) and a few events of every kind."""
    fill_zones(engine)
    fill_events(engine)
    return engine


@pytest.fixture(scope="module")
def served(filled, db_url, tmp_path_factory):
    """The server over the filled database; API keys are re-read at once (revocation tests)."""
    with running_server(db_url, tmp_path_factory.mktemp("serve-var"), COVIDGIS_SERVE_TOKEN_TTL_SECONDS="0") as base:
        yield base


@pytest.fixture(scope="module")
def tokens(served, db_url):
    """One API key per role."""
    return {
        role: run_cli("users", "add", f"test-{role}", "--role", role, database_url=db_url).stdout.strip()
        for role in ("analyst", "committee", "tracer")
    }


# Tracing (issue 12): F0 check-ins on one local day at five venues, traced by gis.trace.engine with the default rule
# set (check-in within ±60 minutes; published from 5 distinct visitors, F0 included). TRACE_PUBLISHED are published;
# VN-FEW has too few visitors, VN-FACTORY is not a public kind, VN-WD is published, then withdrawn with its case.
TRACE_DAY = "2021-10-17"
TRACE_VENUES = {  # venue_id: name, kind, lon, lat, F0 case, local check-in time, other visitors
    "VN-PUB": ('=HYPERLINK("https://evil.example/?q=1","Chợ Tân Phong")', "market", 106.8301, 10.9755, 1, "09:00", 6),
    "VN-XSS": ("<script>alert('loi')</script> Siêu thị Tân Phong", "supermarket", 106.8312, 10.9766, 1, "10:30", 6),
    "VN-FEW": ("Quán ăn Ba Lành", "restaurant", 106.8323, 10.9777, 1, "12:00", 2),
    "VN-FACTORY": ("Nhà máy may Tân Phong", "industrial_zone", 106.8334, 10.9788, 1, "14:00", 6),
    "VN-WD": ("Chợ đêm Tân Phong", "market", 106.8345, 10.9799, 2, "19:00", 6),
}
TRACE_PUBLISHED = {"VN-PUB", "VN-XSS"}
TRACE_CASES = {1: "CA-TRACE-0001", 2: "CA-TRACE-0002"}


def trace_key(who: str) -> str:
    """A pseudonymised person key (64 hex digits, as ingest stores them) for a seeded person."""
    import hashlib

    return hashlib.sha256(f"covid-gis trace seed {who}".encode()).hexdigest()


def fill_trace(engine) -> None:
    """Venues, check-ins and two F0 (events), traced (`withdraw_trace_case` then withdraws the second)."""
    from zoneinfo import ZoneInfo

    from gis.trace.engine import trace_cases
    from gis.trace.rules import DEFAULT_TRACE_RULESET, load_trace_rules
    from gis.trace.settings import TraceSettings

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    day = dt.date.fromisoformat(TRACE_DAY)
    lower = dt.datetime.combine(day, dt.time(), tz)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS events.checkins_{day:%Y%m%d} PARTITION OF events.checkins "
            "FOR VALUES FROM (%(lower)s) TO (%(upper)s)",
            {"lower": lower, "upper": lower + dt.timedelta(days=1)},
        )
        for n, case_id in TRACE_CASES.items():
            conn.execute(
                text(
                    "INSERT INTO events.cases (case_id, person_key, detected_on, batch_id, row_hash) "
                    "VALUES (:c, :p, :d, 1, 'trace-seed')"
                ),
                {"c": case_id, "p": trace_key(f"f0-{n}"), "d": day + dt.timedelta(days=1)},
            )
        for venue, (name, kind, lon, lat, f0, hhmm, others) in TRACE_VENUES.items():
            conn.execute(
                text(
                    "INSERT INTO events.venues (venue_id, name, kind, geom, area_code, commune_code, batch_id, "
                    "row_hash) VALUES (:v, :n, :k, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :a, :c, 1, 'seed')"
                ),
                {"v": venue, "n": name, "k": kind, "lon": lon, "lat": lat, "a": SMALL_HAMLET, "c": TAN_PHONG},
            )
            at = dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tz)
            visits = [(f"f0-{f0}", at)] + [(f"{venue}-{i}", at + dt.timedelta(minutes=5 * i)) for i in range(others)]
            for who, when in visits:
                conn.execute(
                    text(
                        "INSERT INTO events.checkins (checkin_id, checked_in_at, person_key, venue_id, batch_id, "
                        "row_hash) VALUES (:i, :t, :p, :v, 1, 'seed')"
                    ),
                    {"i": f"CI-{venue}-{who}", "t": when, "p": trace_key(who), "v": venue},
                )
    rules, settings = load_trace_rules(DEFAULT_TRACE_RULESET), TraceSettings()
    trace_cases(engine, rules, settings, cases=list(TRACE_CASES.values()))


def withdraw_trace_case(engine) -> None:
    """The second F0 is withdrawn (status 'withdrawn'), traced again: its location VN-WD gets withdrawn_at."""
    from gis.trace.engine import trace_cases
    from gis.trace.rules import DEFAULT_TRACE_RULESET, load_trace_rules
    from gis.trace.settings import TraceSettings

    with engine.begin() as conn:
        conn.execute(text("UPDATE events.cases SET status = 'withdrawn' WHERE case_id = :c"), {"c": TRACE_CASES[2]})
    trace_cases(engine, load_trace_rules(DEFAULT_TRACE_RULESET), TraceSettings(), cases=[TRACE_CASES[2]])


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def get_json(url: str, headers: dict | None = None, **params) -> dict:
    resp = requests.get(url, params={"f": "json", **params}, headers=headers or {}, timeout=60)
    assert resp.status_code == 200, f"{resp.status_code} {url}: {resp.text[:500]}"
    return resp.json()


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """WebMercatorQuad (z, x, y) of the tile containing a point."""
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def fill_welfare(engine) -> list[str]:
    """Households in two hamlets of Tân Phong — 12 eligible with 7 reached, and 2 eligible with 1 reached (small
    counts) — their coverage counted for the public layer; returns what must not be published (household ids,
    person keys, addresses)."""
    from gis.welfare.coverage import refresh_coverage
    from gis.welfare.ledger import Delivery, record_delivery
    from gis.welfare.programmes import load_programme
    from gis.welfare.settings import WelfareSettings

    poor = load_programme("dongnai-4346-2021-poor-near-poor")
    secrets: list[str] = []
    with engine.begin() as conn:
        for hamlet, n in (("25996-02", 12), (SMALL_HAMLET, 2)):
            for i in range(n):
                household, person, address = f"HHW{hamlet}{i:02d}", f"pkw{hamlet}{i:02d}", f"Số {i} Hẻm Riêng {hamlet}"
                conn.execute(
                    text(
                        "INSERT INTO events.households (household_id, person_key, role, size, address, poor, area_code,"
                        " commune_code, batch_id, row_hash) VALUES (:h, :p, 'head', 1, :a, true, :c, :t, 1, 'w')"
                    ),
                    {"h": household, "p": person, "a": address, "c": hamlet, "t": TAN_PHONG},
                )
                secrets += [household, person, address]
    settings = WelfareSettings()
    for hamlet, n in (("25996-02", 7), (SMALL_HAMLET, 1)):
        for i in range(n):
            at = dt.datetime(2021, 8, 5, 10, tzinfo=dt.timezone(dt.timedelta(hours=7)))
            record_delivery(
                engine, poor, Delivery(f"W{hamlet}{i}", poor.id, f"HHW{hamlet}{i:02d}", at, "cb", amount_vnd=1_500_000),
                settings,
            )  # fmt: skip
    refresh_coverage(engine, dt.date(2021, 8, 20), settings.unreached_days, [poor])
    with engine.connect() as conn:
        small = conn.execute(
            text("SELECT eligible, reached FROM welfare.coverage WHERE area_code = :c"), {"c": SMALL_HAMLET}
        ).one()
    assert tuple(small) == (2, 1), "the small hamlet's coverage holds counts below the threshold"
    return secrets


ROOMS_SQL = """
INSERT INTO events.rooms (facility_id, room_id, kind, sex, beds, staffed_beds, cleaning_days, area_code, commune_code,
                          batch_id, row_hash)
VALUES ('DT01', 'DT01-P1', 'f0', 'any', 40, 30, 1, '26026', '26026', 2, 'r1'),
       ('DT01', 'DT01-P2', 'f0', 'f', 20, 20, 1, '26026', '26026', 2, 'r2')
"""


def fill_care_rooms(engine) -> None:
    """Two rooms of the field hospital DT01 (fill_events' treatment facility): the rows of the restricted layer beds."""
    with engine.begin() as conn:
        conn.execute(text(ROOMS_SQL))


CARE_F1_SQL = """
INSERT INTO care.f1_order (order_id, person_key, stay_id, start_on, place, facility_id, commune_code, vaccination,
                           ruleset, rule_id, end_on, monitor_until, test_days, status, overdue, day)
VALUES ('Q-Q1', :pk0, 'Q1', '2021-10-17', 'centralised', 'CL01', '26026', 'not_assessed', 'vn-f1-quarantine-2021',
        'f1-centralised-14d-5599', '2021-10-30', '2021-11-13', '{}', 'active', false, '2021-10-20'),
       ('Q-H1', :pk2, 'H1', '2021-10-15', 'home', NULL, '25996', 'not_assessed', 'vn-f1-quarantine-2021',
        'f1-home-14d-5599-pilot', '2021-10-28', '2021-11-11', '{2021-10-15,2021-10-21,2021-10-28}', 'lost', true,
        '2021-10-20');
INSERT INTO care.transfer_request (person_key, from_facility, from_tier, required_tier, reason, requested_at,
                                   opened_at, requested_by)
VALUES (:pk0, 'CL01', 0, 2, 'F1 chuyển F0 — F1 turned F0 in quarantine', now() - interval '90 minutes', now(), 'test');
"""


def fill_care_f1(engine) -> None:
    """Two F1 orders (one centralised at CL01, one at home in Tân Phong) and an open transfer request from CL01 to
    tier 2 (DT01 has free staffed beds once fill_care_rooms ran): the rows of the restricted layers f1-orders and
    transfers."""
    with engine.begin() as conn:
        conn.execute(text(CARE_F1_SQL), {"pk0": PERSON_KEYS[0], "pk2": PERSON_KEYS[2]})
