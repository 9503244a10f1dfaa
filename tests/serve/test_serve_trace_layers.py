"""The tracing layers against the real server: the public locations of interest (and their withdrawals), the
restricted exposure venues and contacts, and the role `tracer` (issue 12, item 6).

The seed (serve_support.fill_trace) is traced by gis.trace.engine with the default rule set: two published locations
(VN-PUB, whose name is a spreadsheet formula, and VN-XSS, whose name is a script tag), one below the visitor
threshold (VN-FEW), one at a non-public kind (VN-FACTORY), and one published then withdrawn with its case (VN-WD)
while the server runs.
"""

import csv
import datetime as dt
import io
import time

import pytest
import requests
from serve_support import (  # noqa: F401  (fixtures)
    RESTRICTED,
    TRACE_CASES,
    TRACE_DAY,
    TRACE_PUBLISHED,
    TRACE_VENUES,
    bearer,
    fill_trace,
    filled,
    get_json,
    served,
    tokens,
    trace_key,
    withdraw_trace_case,
)

from gis.trace.rules import DEFAULT_TRACE_RULESET, load_trace_rules

RULES = load_trace_rules(DEFAULT_TRACE_RULESET)
EXPOSURE = RULES.checkin_within_exposure  # the rule set's exposure type of a check-in within ±N minutes
LOI = "locations-of-interest"
WITHDRAWN = "locations-of-interest-withdrawn"
TRACING = ["exposure-venues", "exposure-contacts"]
LOI_PROPERTIES = {
    "event_id",
    "venue_id",
    "venue_name",
    "venue_kind",
    "start",
    "end",
    "exposure_type",
    "advice_vi",
    "advice_en",
    "published_at",
    "updated_at",
    "hamlet_name",
    "commune_name",
}


def venues_of(document: dict) -> set[str]:
    return {f["properties"]["venue_id"] for f in document["features"]}


def wait_for(check, seconds: float = 10.0):
    """The check's value once it is truthy (the server reads the data version at most once a second)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


@pytest.fixture(scope="module")
def traced(filled, served):
    """The seed traced while the server runs; the public list read once (so it is cached), then VN-WD's case
    withdrawn and traced again. Yields the list as it was before the withdrawal."""
    fill_trace(filled)
    before = wait_for(lambda: (d := get_json(f"{served}/collections/{LOI}/items")) and "VN-WD" in venues_of(d) and d)
    assert before, "the traced locations did not reach the public collection"
    withdraw_trace_case(filled)
    yield before


def test_public_list_holds_only_published_locations(served, traced):
    assert venues_of(traced) == TRACE_PUBLISHED | {"VN-WD"}  # before the withdrawal
    now = wait_for(lambda: (d := get_json(f"{served}/collections/{LOI}/items")) and "VN-WD" not in venues_of(d) and d)
    assert now, "the withdrawn location stayed in the public list (the cache did not follow the trace run)"
    assert venues_of(now) == TRACE_PUBLISHED and now["numberMatched"] == 2
    for feature in now["features"]:
        props = feature["properties"]
        assert set(props) == LOI_PROPERTIES, set(props) ^ LOI_PROPERTIES
        name, kind, lon, lat, *_ = TRACE_VENUES[props["venue_id"]]
        assert (props["venue_name"], props["venue_kind"]) == (name, kind)
        assert feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat])
        assert feature["id"] == props["event_id"] and props["event_id"].startswith("loi-")
        advice = RULES.advice[EXPOSURE]
        assert (props["exposure_type"], props["advice_vi"], props["advice_en"]) == (EXPOSURE, advice.vi, advice.en)
        assert props["start"] < props["end"] and props["published_at"] and props["updated_at"]
        assert props["commune_name"] and props["hamlet_name"]


def test_withdrawn_locations_are_listed_with_their_time_only(served, traced):
    wd_event = next(f["id"] for f in traced["features"] if f["properties"]["venue_id"] == "VN-WD")
    listed = wait_for(lambda: get_json(f"{served}/collections/{WITHDRAWN}/items")["features"])
    assert [f["id"] for f in listed] == [wd_event]
    assert set(listed[0]["properties"]) == {"event_id", "withdrawn_at"} and listed[0]["geometry"] is None
    assert listed[0]["properties"]["withdrawn_at"]


def test_geojson_and_csv_downloads(served, traced):
    resp = requests.get(f"{served}/collections/{LOI}/items", params={"f": "json"}, timeout=30)
    assert resp.status_code == 200 and "json" in resp.headers["content-type"]
    assert resp.json()["type"] == "FeatureCollection"
    resp = requests.get(f"{served}/collections/{LOI}/items", params={"f": "csv"}, timeout=30)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv"), resp.text[:300]
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8"))))
    assert {r["venue_id"] for r in rows} == TRACE_PUBLISHED
    formula = next(r for r in rows if r["venue_id"] == "VN-PUB")["venue_name"]
    assert formula == "'" + TRACE_VENUES["VN-PUB"][0]  # text to a spreadsheet, not a formula
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())


def test_script_venue_name_is_escaped_in_the_html_item_page(served, traced):
    event = next(f["id"] for f in traced["features"] if f["properties"]["venue_id"] == "VN-XSS")
    resp = requests.get(f"{served}/collections/{LOI}/items/{event}", params={"f": "html"}, timeout=30)
    assert resp.status_code == 200
    assert "<script>alert(" not in resp.text
    assert "&lt;script&gt;alert(" in resp.text or "\\u003cscript\\u003ealert(" in resp.text


@pytest.mark.parametrize("cid", TRACING)
def test_tracing_layers_need_a_tracing_role(served, tokens, cid):
    url = f"{served}/collections/{cid}/items"
    assert requests.get(url, params={"f": "json"}, timeout=30).status_code == 401
    for role in ("tracer", "analyst", "committee"):
        assert get_json(url, headers=bearer(tokens[role]))["type"] == "FeatureCollection", role
    assert set(TRACING) <= set(RESTRICTED)


def test_tracer_sees_tracing_and_public_layers_only(served, tokens):
    tracer = bearer(tokens["tracer"])
    listed = {c["id"] for c in get_json(f"{served}/collections", headers=tracer)["collections"]}
    assert set(TRACING) <= listed and LOI in listed
    assert not listed & {"cases", "indicators", "quarantine-facilities", "ingest-rejects"}
    for cid in ("cases", "indicators", "quarantine-facilities", "ingest-rejects"):
        assert requests.get(f"{served}/collections/{cid}/items", headers=tracer, timeout=30).status_code == 403, cid


def test_exposure_venues_count_f0_and_contacts(served, tokens, traced):
    features = get_json(f"{served}/collections/exposure-venues/items", headers=bearer(tokens["tracer"]))["features"]
    by_venue = {f["properties"]["venue_id"]: f["properties"] for f in features}
    assert set(by_venue) == set(TRACE_VENUES)
    status = {v: p["status"] for v, p in by_venue.items()}
    assert status == {
        "VN-PUB": "published",
        "VN-XSS": "published",
        "VN-FEW": "below_threshold",
        "VN-FACTORY": "not_public",
        "VN-WD": "withdrawn",
    }
    for venue, (_, kind, _, _, _, _, others) in TRACE_VENUES.items():
        props = by_venue[venue]
        assert props["venue_kind"] == kind
        expected = (0, 0) if venue == "VN-WD" else (1, others)  # a withdrawn case leaves no visit, no contact
        assert (props["f0"], props["contacts"]) == expected, venue
        assert props["visitors"] == others + 1
    assert by_venue["VN-PUB"]["published"] is True and by_venue["VN-FACTORY"]["published"] is False


def test_exposure_contacts_carry_keys_cases_and_status(served, tokens, traced):
    features = get_json(
        f"{served}/collections/exposure-contacts/items", headers=bearer(tokens["committee"]), limit=1000
    )["features"]
    expected = {
        trace_key(f"{venue}-{i}")
        for venue, (*_, f0, _, others) in TRACE_VENUES.items()
        if f0 == 1
        for i in range(others)
    }
    assert {f["properties"]["person_key"] for f in features} == expected
    for f in features:
        props = f["properties"]
        assert props["case_id"] == TRACE_CASES[1] and props["cases"] == [TRACE_CASES[1]]
        assert props["risk"] == EXPOSURE and props["status"] == "cleared"  # 14 days passed, no stay, no case
        assert f["geometry"]["type"] == "Point" and props["venue_id"] in TRACE_VENUES


NEW_RESTRICTED = ["lockdown-proposals", "trace-indicators"]


@pytest.mark.parametrize("cid", NEW_RESTRICTED)
def test_proposals_and_indicators_need_a_tracing_role(served, tokens, cid):
    """401 without credentials or with an unknown token; 200 for tracer, analyst and committee. Every role a key can
    have reads both (gis/serve/auth.py ROLE_COLLECTIONS), so no key role gets 403 here: the 403 case is a tracer
    reading a non-tracing collection (test_tracer_sees_tracing_and_public_layers_only)."""
    url = f"{served}/collections/{cid}/items"
    assert requests.get(url, params={"f": "json"}, timeout=30).status_code == 401
    assert requests.get(f"{served}/collections/{cid}", params={"f": "json"}, timeout=30).status_code == 401
    unknown = bearer("cgis_not-a-key")
    assert requests.get(url, params={"f": "json"}, headers=unknown, timeout=30).status_code == 401
    for role in ("tracer", "analyst", "committee"):
        assert get_json(url, headers=bearer(tokens[role]))["type"] == "FeatureCollection", role
        listed = {c["id"] for c in get_json(f"{served}/collections", headers=bearer(tokens[role]))["collections"]}
        assert cid in listed, role
    assert cid in RESTRICTED
    public = {c["id"] for c in get_json(f"{served}/collections")["collections"]}
    assert cid not in public


def test_trace_indicators_hold_the_seeded_f0_and_contacts(served, tokens, traced):
    """The seed's remaining F0 (CA-TRACE-0001, detected the day after its visits; the other was withdrawn): one F0
    with a check-in, 6 + 6 + 2 + 6 distinct contacts, none quarantined and none a case yet."""
    tracer = bearer(tokens["tracer"])
    detected = str(dt.date.fromisoformat(TRACE_DAY) + dt.timedelta(days=1))
    f0_id = f"{DEFAULT_TRACE_RULESET}@day@{detected}@all"
    contacts_id = f"{DEFAULT_TRACE_RULESET}@day@{TRACE_DAY}@all"
    url = f"{served}/collections/trace-indicators/items"

    def rows():
        features = get_json(url, headers=tracer, limit=1000)["features"]
        by_id = {f["id"]: f["properties"] for f in features}
        return by_id if by_id.get(f0_id, {}).get("f0") == 1 else None

    by_id = wait_for(rows)
    assert by_id, "the traced seed did not reach trace-indicators"
    f0 = by_id[f0_id]
    others = sum(v[-1] for v in TRACE_VENUES.values() if v[4] == 1)
    assert (f0["f0"], f0["f0_with_checkin"], f0["share_f0_with_checkin"]) == (1, 1, 1.0)
    assert f0["contacts_per_f0"] == float(others) == 20.0
    day = by_id[contacts_id]
    assert (day["contacts"], day["quarantined_24h"], day["quarantined_72h"], day["became_f0"]) == (others, 0, 0, 0)
    assert day["share_quarantined_24h"] == 0.0 and day["yield_share"] == 0.0
    market = by_id[f"{DEFAULT_TRACE_RULESET}@day@{TRACE_DAY}@market"]
    assert market["contacts"] == 6 and market["f0"] is None  # VN-PUB's contacts; VN-WD's case was withdrawn
