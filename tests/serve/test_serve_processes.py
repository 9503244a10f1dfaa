"""OGC API Processes: zone-at-point and route-risk; bad input is a 400 with a clear message, never a 500.

A process must never hold the server: routes are bounded (positions, km), at most `concurrency` processes run at once
(others answer 503 busy at once, and the feature endpoints keep answering), and a statement over the timeout answers
503 saying so. Holding an ACCESS EXCLUSIVE lock on risk.published (which every zone query reads) makes a process
wait as long as the test wants, so these are tested without depending on how fast anything is.
"""

import json
import math
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from serve_support import DAYS, TAN_PHONG, filled, running_server, served  # noqa: F401
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gis.serve.processes import MAX_ROUTE_KM, MAX_ROUTE_POINTS

BIEN_HOA = {"type": "LineString", "coordinates": [[106.78, 10.97], [106.90, 10.98]]}


def run(served, process, inputs, **body):
    return requests.post(f"{served}/processes/{process}/execution", json={"inputs": inputs, **body}, timeout=30)


def line(coords) -> dict:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def wave(n: int, amplitude: float = 0.012, waves: float = 3) -> dict:
    """A route across Biên Hòa that winds in and out of Tân Phong without crossing itself."""
    return line(
        (106.78 + 0.14 * i / (n - 1), 10.975 + amplitude * math.sin(2 * math.pi * waves * i / (n - 1)))
        for i in range(n)
    )


def shuttle(n: int) -> dict:
    """n positions back and forth between two points 0.1° (10.9 km) apart: a short extent, a long route."""
    return line([106.80, 10.95] if i % 2 == 0 else [106.90, 10.95] for i in range(n))


def walk(n: int = MAX_ROUTE_POINTS, seed: int = 1) -> dict:
    """A random walk over Đồng Nai in 6 km steps: the most crossings a route within the limits can have."""
    rnd, x, y, coords = random.Random(seed), 107.1, 11.0, []
    for _ in range(n):
        coords.append([x, y])
        angle = rnd.uniform(0, 2 * math.pi)
        x, y = (
            min(max(x + 0.054 * math.cos(angle), 106.76), 107.57),
            min(max(y + 0.054 * math.sin(angle), 10.58), 11.58),
        )
    return line(coords)


def test_processes_are_listed(served):
    ids = {p["id"] for p in requests.get(f"{served}/processes?f=json", timeout=30).json()["processes"]}
    assert {"zone-at-point", "route-risk"} <= ids


def test_zone_at_point_gives_every_level_with_reasons(served):
    resp = run(served, "zone-at-point", {"lon": 106.82, "lat": 10.975})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["date"] == str(DAYS[-1])
    assert [a["admin_level"] for a in body["areas"]] == [1, 2, 3, 4]
    commune = body["areas"][2]
    assert (commune["code"], commune["colour"], commune["level"]) == (TAN_PHONG, "orange", 3)
    assert any("Decision 4800" in r for r in commune["reasons"])
    earlier = run(served, "zone-at-point", {"lon": "106.82", "lat": "10.975", "date": str(DAYS[0])}).json()
    assert earlier["areas"][2]["colour"] == "green" and earlier["date"] == str(DAYS[0])


def test_route_risk_orders_crossings_and_sums_lengths(served):
    resp = run(served, "route-risk", {"route": BIEN_HOA, "admin_level": 3})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    codes = [c["code"] for c in body["crossings"]]
    assert TAN_PHONG in codes and len(codes) == len(set(codes)) >= 3
    assert (body["highest_level"], body["highest_colour"]) == (3, "orange")
    assert body["length_m_by_colour"]["orange"] > 1000
    assert abs(sum(body["length_m_by_colour"].values()) + body["outside_m"] - body["length_m"]) < 1
    assert 12_000 < body["length_m"] < 14_000  # 0.12° of longitude at 11° N
    reverse = run(served, "route-risk", {"route": line(BIEN_HOA["coordinates"][::-1]), "admin_level": 3}).json()
    assert [c["code"] for c in reverse["crossings"]] == codes[::-1]
    feature = run(served, "route-risk", {"route": {"type": "Feature", "geometry": BIEN_HOA, "properties": {}}})
    assert feature.status_code == 200 and feature.json()["admin_level"] == 4


# The whole route cut by each area at once, pieces ordered by where they start on it: what PostGIS says directly.
DIRECT_SQL = """
WITH r AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:route), 4326) AS g),
piece AS (SELECT h.code, h.colour, (ST_Dump(ST_Intersection(h.geom, r.g))).geom AS p, r.g
          FROM pub.zones_history h, r
          WHERE h.day = :day AND h.admin_level = :admin_level AND ST_Intersects(h.geom, r.g))
SELECT code, colour, ST_Length(p::geography) AS m FROM piece WHERE ST_Dimension(p) = 1
ORDER BY least(ST_LineLocatePoint(g, ST_StartPoint(p)), ST_LineLocatePoint(g, ST_EndPoint(p))), code
"""


@pytest.mark.parametrize("admin_level", [1, 2, 3, 4])
@pytest.mark.parametrize(
    "route",
    [
        BIEN_HOA,
        wave(40),
        wave(200, amplitude=0.03, waves=9),
        line([[106.80, 10.96], [106.80, 10.96], [106.84, 10.99], [106.84, 10.99]]),
    ],
    ids=["straight", "wave-40", "wave-200", "repeated-positions"],
)
def test_route_lengths_match_postgis(served, filled, route, admin_level):
    """Per colour, per area, in total and in the order areas are first met, the answer is what PostGIS computes for
    the whole line. (Where two areas overlap — the demo's synthetic boundaries do — the crossings may alternate
    between them segment by segment; which is met first does not change.)"""
    body = run(served, "route-risk", {"route": route, "admin_level": admin_level}).json()
    with filled.connect() as conn:
        params = {"route": json.dumps(route), "day": DAYS[-1], "admin_level": admin_level}
        pieces = conn.execute(text(DIRECT_SQL), params).all()
        total = conn.execute(
            text("SELECT ST_Length(ST_SetSRID(ST_GeomFromGeoJSON(:route), 4326)::geography)"), params
        ).scalar_one()
    by_colour: dict[str, float] = {}
    by_code: dict[str, float] = {}
    for code, colour, m in pieces:
        by_colour[colour] = by_colour.get(colour, 0.0) + m
        by_code[code] = by_code.get(code, 0.0) + m
    assert body["length_m_by_colour"].keys() == by_colour.keys()
    assert all(abs(body["length_m_by_colour"][c] - m) < 0.5 for c, m in by_colour.items()), (body, by_colour)
    got_by_code: dict[str, float] = {}
    for crossing in body["crossings"]:
        got_by_code[crossing["code"]] = got_by_code.get(crossing["code"], 0.0) + crossing["length_m"]
    assert got_by_code.keys() == by_code.keys()
    assert all(abs(got_by_code[c] - m) < 0.5 for c, m in by_code.items())
    assert list(dict.fromkeys(c["code"] for c in body["crossings"])) == list(dict.fromkeys(p.code for p in pieces))
    assert abs(body["length_m"] - total) < 0.5


def test_route_process_description_names_the_limit(served):
    route = requests.get(f"{served}/processes/route-risk?f=json", timeout=30).json()["inputs"]["route"]
    assert route["schema"]["properties"]["coordinates"]["maxItems"] == MAX_ROUTE_POINTS == 400
    assert f"{MAX_ROUTE_POINTS} positions" in route["description"] and f"{MAX_ROUTE_KM:,} km" in route["description"]


@pytest.mark.parametrize("count", [MAX_ROUTE_POINTS + 1, 1_000, 10_000])
def test_routes_over_the_position_limit_are_400_naming_it(served, count):
    resp = run(served, "route-risk", {"route": wave(count)})
    assert resp.status_code == 400, resp.text
    assert "2 to 400 positions" in resp.json()["description"] and f"got {count}" in resp.json()["description"]


def test_a_route_at_the_position_limit_is_answered(served):
    resp = run(served, "route-risk", {"route": wave(MAX_ROUTE_POINTS), "admin_level": 4})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    "route",
    [
        line([[106.8, 10.9], [106.8, 35.0]]),
        shuttle(MAX_ROUTE_POINTS),
        line([[106.8, 10.9], [106.0, 21.0], [105.0, 7.0]]),
    ],
    ids=["one-long-step", "back-and-forth", "north-and-back"],
)
def test_routes_over_the_length_limit_are_400_naming_it(served, route):
    resp = run(served, "route-risk", {"route": route})
    assert resp.status_code == 400, resp.text
    assert f"at most {MAX_ROUTE_KM:,} km" in resp.json()["description"]


@pytest.mark.parametrize(
    "route", [line([[-179.5, 10.95], [179.5, 10.95]]), line([[106.8, 10.95], [106.9, 10.95], [-74.0, 10.95]])]
)
def test_a_step_round_the_earth_is_400(served, route):
    """A step of more than 180° of longitude is short on the Earth but drawn round it: no way around the km limit."""
    resp = run(served, "route-risk", {"route": route})
    assert resp.status_code == 400, resp.text
    assert "antimeridian" in resp.json()["description"]


@pytest.mark.parametrize(
    "process,inputs,message",
    [
        ("zone-at-point", {"lat": 10.9}, "lon"),
        ("zone-at-point", {"lon": "abc", "lat": 10.9}, "not a number"),
        ("zone-at-point", {"lon": 200, "lat": 10.9}, "outside"),
        ("zone-at-point", {"lon": 2.35, "lat": 48.85}, "outside the served areas"),
        ("zone-at-point", {"lon": 106.82, "lat": 10.975, "date": "20-10-2021"}, "ISO date"),
        ("zone-at-point", {"lon": 106.82, "lat": 10.975, "date": "1999-01-01"}, "no zone"),
        ("route-risk", {"route": {"type": "Point", "coordinates": [106.8, 10.9]}}, "LineString"),
        ("route-risk", {"route": {"type": "LineString", "coordinates": [[106.8, 10.9]]}}, "2 to"),
        ("route-risk", {"route": {"type": "LineString", "coordinates": [[106.8, 10.9], [106.8, 10.9]]}}, "same point"),
        ("route-risk", {"route": {"type": "LineString", "coordinates": [[1, 2], ["x", 3]]}}, "not a number"),
        ("route-risk", {"route": "{not json"}, "not valid JSON"),
        ("route-risk", {"route": {"type": "LineString", "coordinates": [[2.3, 48.8], [2.4, 48.9]]}}, "outside"),
        ("route-risk", {"route": BIEN_HOA, "admin_level": 7}, "admin_level"),
        ("route-risk", {}, "LineString"),
    ],
)
def test_bad_input_is_400_with_a_clear_message(served, process, inputs, message):
    resp = run(served, process, inputs)
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["description"]
    assert "Error executing process" not in resp.json()["description"]  # our words, not pygeoapi's wrapper


LONG = "9" * 10_000


@pytest.mark.parametrize(
    "process,inputs,message",
    [
        ("zone-at-point", {"lon": LONG + "x", "lat": 10.9}, "lon"),
        ("zone-at-point", {"lon": 106.8, "lat": LONG}, "lat"),
        ("zone-at-point", {"lon": 106.8, "lat": 10.9, "date": LONG}, "date"),
        ("route-risk", {"route": BIEN_HOA, "admin_level": LONG}, "admin_level"),
        ("route-risk", {"route": {"type": LONG, "coordinates": []}}, "LineString"),
        ("route-risk", {"route": line([[106.8, 10.9], [LONG, 10.9]])}, "position 1"),
    ],
)
def test_long_values_are_cut_in_messages(served, process, inputs, message):
    resp = run(served, process, inputs)
    assert resp.status_code == 400, resp.text
    description = resp.json()["description"]
    assert message in description and len(description) < 300


def test_malformed_bodies_are_400(served):
    for body in [b"not json", b"[]", b'{"inputs": 5}']:
        resp = requests.post(
            f"{served}/processes/zone-at-point/execution",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert resp.status_code == 400, (body, resp.status_code, resp.text[:200])


def test_subscriber_urls_are_never_called(served):
    """A caller's callback URL would make the server send requests anywhere (and wait on them): never called."""
    calls: list[str] = []

    class Record(BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    listener = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{listener.server_address[1]}"
        subscriber = {"successUri": f"{url}/ok", "inProgressUri": f"{url}/running", "failedUri": f"{url}/failed"}
        good = run(served, "zone-at-point", {"lon": 106.82, "lat": 10.975}, subscriber=subscriber)
        bad = run(served, "zone-at-point", {"lon": "x", "lat": 10.975}, subscriber=subscriber)
    finally:
        listener.shutdown()
    assert (good.status_code, bad.status_code) == (200, 400)
    assert calls == []


@contextmanager
def zones_locked(engine):
    """Hold ACCESS EXCLUSIVE on risk.published until the block ends or `.rollback()`: every zone query waits (the
    areas and the data version do not read it)."""
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE risk.published IN ACCESS EXCLUSIVE MODE"))
        yield conn
        conn.rollback()


def wait_for_waiting_processes(engine, count: int) -> None:
    """Until `count` process statements wait on the lock (so they hold their slots)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'covidgis-processes' "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{count} process statements never waited on the lock")


def test_processes_beyond_the_bound_answer_busy_and_features_still_answer(served, filled):
    """Two processes run (the default bound); more answer 503 busy at once, bad input 400, features 200."""
    heavy = {"route": walk(), "admin_level": 4}
    with ThreadPoolExecutor(8) as pool, zones_locked(filled) as lock:
        held = [pool.submit(run, served, "route-risk", heavy) for _ in range(2)]
        wait_for_waiting_processes(filled, 2)
        more = list(
            pool.map(
                lambda args: run(served, *args),
                [("route-risk", heavy)] * 4 + [("zone-at-point", {"lon": 106.82, "lat": 10.975})] * 2,
            )
        )
        bad = run(served, "route-risk", {"route": wave(MAX_ROUTE_POINTS + 1)})
        features = requests.get(
            f"{served}/collections/areas/items", params={"f": "json", "limit": "10", "offset": "17"}, timeout=30
        )
        health = requests.get(f"{served}/health", timeout=30)
        lock.rollback()
        first = [f.result() for f in held]
    for resp in more:
        assert resp.status_code == 503, resp.text
        assert "busy" in resp.json()["description"] and "retry" in resp.json()["description"]
    assert bad.status_code == 400 and "400 positions" in bad.json()["description"]
    assert features.status_code == 200 and len(features.json()["features"]) == 10
    assert health.status_code == 200
    assert [r.status_code for r in first] == [200, 200], [r.text[:200] for r in first]
    assert first[0].json() == first[1].json()


def test_a_burst_of_heavy_routes_is_answered_or_busy_never_an_error(served):
    heavy = {"route": walk(seed=2), "admin_level": 4}
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: run(served, "route-risk", heavy), range(12)))
    assert {r.status_code for r in answers} <= {200, 503}, [(r.status_code, r.text[:200]) for r in answers]
    assert all("busy" in r.json()["description"] for r in answers if r.status_code == 503)
    done = [r.json() for r in answers if r.status_code == 200]
    assert done and all(body == done[0] for body in done)


@pytest.fixture(scope="module")
def impatient(filled, db_url, tmp_path_factory):
    """A second server whose processes give up after 0.2 s."""
    with running_server(
        db_url, tmp_path_factory.mktemp("impatient-var"), COVIDGIS_SERVE_PROCESS_STATEMENT_TIMEOUT_SECONDS="0.2"
    ) as base:
        yield base


@pytest.mark.parametrize(
    "process,inputs,message",
    [
        ("route-risk", {"route": BIEN_HOA}, "the route took too long (over 0.2 s); send a shorter route"),
        ("route-risk", {"route": BIEN_HOA, "date": str(DAYS[0])}, "send a shorter route"),
        ("zone-at-point", {"lon": 106.82, "lat": 10.975}, "the zone lookup took too long (over 0.2 s)"),
    ],
)
def test_a_statement_over_the_timeout_is_503_saying_so(impatient, filled, process, inputs, message):
    with zones_locked(filled):
        resp = run(impatient, process, inputs)
    assert resp.status_code == 503, resp.text
    assert message in resp.json()["description"]
    again = run(impatient, "zone-at-point", {"lon": 106.82, "lat": 10.975})
    assert again.status_code == 200, again.text


@pytest.mark.parametrize("timeout, concurrency", [("0.5", "1"), ("3", "5")])
def test_processors_read_their_settings_when_made(monkeypatch, db_url, timeout, concurrency):
    """pygeoapi makes a processor per request from its dotted path: the settings are read then (none at import),
    and processors of one bound share its slots."""
    import gis.serve.processes as processes

    assert not [name for name, value in vars(processes).items() if isinstance(value, processes.ProcessSettings)]
    monkeypatch.setenv("COVIDGIS_SERVE_PROCESS_STATEMENT_TIMEOUT_SECONDS", timeout)
    monkeypatch.setenv("COVIDGIS_SERVE_PROCESS_CONCURRENCY", concurrency)
    url = make_url(db_url)
    definition = {
        "name": "gis.serve.processes.ZoneAtPointProcessor",
        "data": {"host": url.host, "port": url.port, "dbname": url.database, "user": "covidgis_public"},
    }
    made = [processes.ZoneAtPointProcessor(definition), processes.RouteRiskProcessor(definition)]
    assert all(p.settings.statement_timeout_seconds == float(timeout) for p in made)
    assert made[0].slots is made[1].slots
    assert [made[0].slots.acquire(blocking=False) for _ in range(int(concurrency) + 1)] == [True] * int(concurrency) + [
        False
    ]
    for _ in range(int(concurrency)):
        made[0].slots.release()
    with made[1].engine.connect() as conn:
        seconds = conn.exec_driver_sql("SELECT extract(epoch FROM current_setting('statement_timeout')::interval)")
        assert float(seconds.scalar_one()) == float(timeout)
