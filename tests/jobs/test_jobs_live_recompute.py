"""Live zones: `covidgis ingest` recomputes the days and units a batch touched, and nothing else."""

import json

from conftest import run_cli
from sqlalchemy import text

DAY = "2021-08-12"
COMMUNE = "25996"  # Phường Tân Phong, Biên Hòa
HEADER = (
    "case_id,person_id,birth_year,sex,detected_on,detection_setting,source_known,cluster_id,setting,"
    "area_code,lon,lat,status,facility_id\n"
)


def zone_rows(engine):
    with engine.connect() as conn:
        return {
            r.area_code: (r.level, r.computed_at)
            for r in conn.execute(
                text("SELECT area_code, level, computed_at FROM risk.zone WHERE day = :d"), {"d": DAY}
            )
        }


def indicator_times(engine):
    with engine.connect() as conn:
        return dict(
            conn.execute(text("SELECT area_code, computed_at FROM stats.indicator WHERE day = :d"), {"d": DAY}).all()
        )


def indicator(engine, code):
    with engine.connect() as conn:
        return (
            conn.execute(text("SELECT * FROM stats.indicator WHERE day = :d AND area_code = :c"), {"d": DAY, "c": code})
            .mappings()
            .one()
        )


def test_a_batch_recomputes_only_what_it_reached(db_url, engine, tmp_path):
    run_cli("zones", "compute", "--date", DAY, database_url=db_url, env={"COVIDGIS_VAR_DIR": str(tmp_path)})
    before = zone_rows(engine)
    computed_before = indicator_times(engine)
    assert indicator(engine, COMMUNE)["community_cases_7d"] == 0
    rows = "".join(
        f"LIVE-{i},0912345{i:03d},1985,Nam,12/08/2021,Cộng đồng,Có,,,{COMMUNE},,,Điều trị tại nhà,\n"
        for i in range(200)
    )  # 200 community cases: far above Decision 4800's 150 per 100,000
    feed = tmp_path / "cases-live.csv"
    feed.write_text(HEADER + rows, encoding="utf-8")
    out = json.loads(
        run_cli(
            "ingest",
            str(feed),
            "--feed",
            "cases",
            "--json",
            database_url=db_url,
            env={"COVIDGIS_VAR_DIR": str(tmp_path)},
        ).stdout
    )
    assert out["accepted"] == 200
    assert out["recomputed"]["first"] == DAY and out["recomputed"]["zones"]["changed"] >= 1
    after = zone_rows(engine)
    assert indicator(engine, COMMUNE)["community_cases_7d"] == 200
    assert indicator(engine, "731")["community_cases_7d"] == 200  # the district and province count them too
    assert indicator(engine, "75")["community_cases_7d"] == 200
    assert after[COMMUNE][0] > before[COMMUNE][0]
    # Only the commune, its hamlets, Biên Hòa and the province were recomputed, and a row is rewritten only when a
    # value changed: the commune and the units above it (the cases were located at the commune, not its hamlets).
    computed_after = indicator_times(engine)
    recomputed = {code for code, at in computed_after.items() if at != computed_before[code]}
    with engine.connect() as conn:
        reach = set(
            conn.execute(
                text("SELECT code FROM pub.areas WHERE code IN ('75', '731', :c) OR parent_code = :c"), {"c": COMMUNE}
            ).scalars()
        )
    assert recomputed == {COMMUNE, "731", "75"} and recomputed <= reach
    changed = {code for code in after if after[code][1] != before[code][1]}
    assert COMMUNE in changed and changed <= reach
