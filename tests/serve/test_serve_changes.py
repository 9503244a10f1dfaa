"""The zones' change feed (issue 15, item 4) over real HTTP: `/collections/zones/items?changed-since=V` gives exactly
the public zones whose level or colour changed after snapshot version V (a recompute, another published rule set),
pages like any query, answers 400 to a V that is no version, 410 naming the oldest kept to one too old, and an empty
collection from the current version on."""

import time

import requests
from serve_support import DAYS, TAN_PHONG, filled, served  # noqa: F401
from sqlalchemy import text
from support import put_indicators

from gis.risk.publish import publish
from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones

TRANG_DAI = "25993"  # a commune of the same city, made orange by the recompute below
ITEMS = "/collections/zones/items"


def public_zones(engine) -> dict[str, tuple[int, str]]:
    """What pub.zones shows now: code → (level, colour)."""
    with engine.connect() as conn:
        return {r.code: (r.level, r.colour) for r in conn.execute(text("SELECT code, level, colour FROM pub.zones"))}


def snapshot(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version FROM risk.snapshot")).scalar_one()


def changed(before: dict, after: dict) -> set[str]:
    return {code for code, shown in after.items() if before.get(code) != shown}


def feed(base: str, since, **params) -> requests.Response:
    """The feed's first page once the server's caches hold the current snapshot (they may lag it by a second)."""
    deadline = time.monotonic() + 10
    while True:
        response = requests.get(f"{base}{ITEMS}", params={"changed-since": since, "f": "json", **params}, timeout=30)
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        if response.json()["snapshotVersion"] == snapshot_now[0]:
            return response
        time.sleep(0.2)


snapshot_now = [0]  # the version the feed is expected at (set by each test before it asks)


def recompute(engine, day, ruleset="vn-4800-2021", **indicators) -> None:
    put_indicators(engine, day, **indicators)
    compute_zones(engine, [day], load_ruleset(ruleset), RiskSettings())
    snapshot_now[0] = snapshot(engine)


def hot(engine, code: str) -> dict:
    """Indicators that make a commune orange (60 community cases per 100,000 in 7 days, nobody vaccinated)."""
    with engine.connect() as conn:
        pop = conn.execute(text("SELECT population FROM pub.areas WHERE code = :c"), {"c": code}).scalar()
    return {"community_cases_7d": int(pop * 60 / 100_000) + 1, "vaccinated_18plus_1dose": 0}


def all_pages(base: str, since, limit: int) -> tuple[list[dict], list[int]]:
    """Every feature of the feed following its next links, and numberMatched of each page."""
    url: str | None = f"{base}{ITEMS}"
    params: dict | None = {"changed-since": since, "f": "json", "limit": limit}
    features, matched = [], []
    while url:
        page = requests.get(url, params=params, timeout=30).json()
        features += page["features"]
        matched.append(page["numberMatched"])
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        params = None
    return features, matched


def test_recompute_changes_exactly_those_zones(filled, served):
    snapshot_now[0] = snapshot(filled)
    before, since = public_zones(filled), snapshot(filled)
    assert since > 0 and changed({}, before), "the filled database made snapshots"
    plain = requests.get(f"{served}{ITEMS}", params={"f": "json", "limit": "1"}, timeout=30).json()
    assert plain["snapshotVersion"] >= since, "every zones response says which version it is at least as new as"

    # Tân Phong back to quiet, Trảng Dài orange: both change, and so may their parents.
    recompute(filled, DAYS[-1], **{TRANG_DAI: hot(filled, TRANG_DAI)})
    after = public_zones(filled)
    expected = changed(before, after)
    assert {TAN_PHONG, TRANG_DAI} <= expected and len(expected) < len(after) / 10

    response = feed(served, since, limit=1000)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["snapshotVersion"] == snapshot(filled) > since and body["changedSince"] == since
    got = {f["id"]: (f["properties"]["level"], f["properties"]["colour"]) for f in body["features"]}
    assert set(got) == expected
    assert got == {code: after[code] for code in expected}, "each shows its zone as pub.zones does now"
    assert body["numberMatched"] == len(expected)
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in body["features"])

    # The same recompute again changes nothing a user sees: no new version, nothing after the current one.
    recompute(filled, DAYS[-1], **{TRANG_DAI: hot(filled, TRANG_DAI)})
    assert snapshot(filled) == body["snapshotVersion"]
    empty = feed(served, body["snapshotVersion"]).json()
    assert empty["features"] == [] and empty["numberMatched"] == 0
    future = feed(served, body["snapshotVersion"] + 5).json()
    assert future["features"] == [] and future["numberMatched"] == 0


def test_paging_follows_the_feed(filled, served):
    snapshot_now[0] = snapshot(filled)
    before, since = public_zones(filled), snapshot(filled)
    with filled.connect() as conn:
        communes = (
            conn.execute(
                text("SELECT code FROM pub.zones WHERE admin_level = 3 AND code NOT IN (:a, :b) ORDER BY code LIMIT 4"),
                {"a": TAN_PHONG, "b": TRANG_DAI},
            )
            .scalars()
            .all()
        )
    recompute(filled, DAYS[-1], **{code: hot(filled, code) for code in communes})
    expected = changed(before, public_zones(filled))
    assert len(expected) >= 5
    assert feed(served, since).status_code == 200  # the server has the new snapshot
    features, matched = all_pages(served, since, limit=2)
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids)) and set(ids) == expected, "pages neither overlap nor skip"
    assert set(matched) == {len(expected)} and len(matched) == -(-len(expected) // 2)
    hits = requests.get(
        f"{served}{ITEMS}", params={"changed-since": str(since), "resulttype": "hits", "f": "json"}, timeout=30
    ).json()
    assert hits["numberMatched"] == len(expected)
    filtered = feed(served, since, admin_level=3).json()
    assert {f["id"] for f in filtered["features"]} == {c for c in expected if len(c) == 5}, "with other filters"


def test_another_published_rule_set_counts(filled, served):
    compute_zones(filled, [DAYS[-1]], load_ruleset("vn-2686-2021"), RiskSettings())  # not published: no change
    before, since = public_zones(filled), snapshot(filled)
    try:
        publish(filled, "vn-2686-2021", 5)
        snapshot_now[0] = snapshot(filled)
        assert snapshot_now[0] > since
        expected = changed(before, public_zones(filled))
        assert expected, "the two rule sets disagree somewhere"
        body = feed(served, since, limit=5000).json()
        assert {f["id"] for f in body["features"]} == expected
        assert all(f["properties"]["ruleset_id"] == "vn-2686-2021" for f in body["features"])
    finally:
        publish(filled, "vn-4800-2021", 5)
        snapshot_now[0] = snapshot(filled)


def test_not_a_version_is_400(served):
    for bad in ("abc", "-1", "1.5", "", "1e3", "٣", "99999999999999999999"):
        response = requests.get(f"{served}{ITEMS}", params={"changed-since": bad, "f": "json"}, timeout=30)
        assert response.status_code == 400, (bad, response.text)
        assert "changed-since" in response.json()["description"]
    other = requests.get(f"{served}/collections/areas/items", params={"changed-since": "1", "f": "json"}, timeout=30)
    assert other.status_code == 400 and "zones" in other.json()["description"]


def test_older_than_kept_is_410_naming_the_oldest(filled, served):
    keep = RiskSettings(changes_keep_versions=2)
    for n in range(4):  # four snapshots, alternating which commune is orange
        code = TRANG_DAI if n % 2 else TAN_PHONG
        put_indicators(filled, DAYS[-1], **{code: hot(filled, code)})
        compute_zones(filled, [DAYS[-1]], load_ruleset("vn-4800-2021"), keep)
    current = snapshot_now[0] = snapshot(filled)
    oldest = current - 2
    with filled.connect() as conn:
        kept = conn.execute(text("SELECT min(version) FROM risk.zone_change")).scalar_one()
        assert conn.execute(text("SELECT oldest_version FROM pub.zone_feed")).scalar_one() == oldest
    assert kept > oldest, "older changes are dropped"
    gone = feed(served, oldest - 1)
    assert gone.status_code == 410, gone.text
    assert f"oldest version whose changes are kept is {oldest}" in gone.json()["description"]
    assert f"current one is {current}" in gone.json()["description"]
    assert requests.get(f"{served}{ITEMS}", params={"changed-since": 0}, timeout=30).status_code == 410
    ok = feed(served, oldest)
    assert ok.status_code == 200 and ok.json()["oldestVersion"] == oldest and ok.json()["features"]


def test_a_past_day_changes_no_public_zone(filled, served):
    since = snapshot(filled)
    recompute(filled, DAYS[0], **{TRANG_DAI: hot(filled, TRANG_DAI), TAN_PHONG: hot(filled, TAN_PHONG)})
    assert snapshot_now[0] > since, "the past day's zones changed"
    body = feed(served, since).json()
    assert body["snapshotVersion"] == snapshot_now[0] and body["features"] == [] and body["numberMatched"] == 0
