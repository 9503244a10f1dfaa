"""`covidgis demo --no-serve` sets up a database from nothing — boundaries, synthetic feeds, zones for the sample
period, care, welfare and hotline records — and a second run reuses all of it."""

import json

from conftest import run_cli
from sqlalchemy import text

from gis.db.engine import make_engine


def counts(engine) -> dict:
    with engine.connect() as conn:
        return {
            "areas": dict(conn.execute(text("SELECT level, count(*) FROM pub.areas GROUP BY level")).all()),
            "batches": conn.execute(text("SELECT count(*) FROM ingest.batch")).scalar(),
            "cases": conn.execute(text("SELECT count(*) FROM events.cases")).scalar(),
            "zone_days": conn.execute(text("SELECT count(DISTINCT day) FROM risk.zone")).scalar(),
            "zones": conn.execute(text("SELECT count(*) FROM risk.zone")).scalar(),
            "snapshot": conn.execute(text("SELECT version FROM risk.snapshot")).scalar(),
            "published": tuple(conn.execute(text("SELECT ruleset_id, suppress_below FROM risk.published")).one()),
            # Tracing: served locations of interest, non-public exposure venues, contacts, trace runs.
            "traced": tuple(
                conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM pub.locations_of_interest), "
                        "(SELECT count(*) FROM restricted.exposure_venues WHERE status = 'not_public'), "
                        "(SELECT count(DISTINCT person_key) FROM trace.exposure), (SELECT count(*) FROM trace.run)"
                    )
                ).one()
            ),
            # Criterion 3 computed for every day (district and province rows), and how many of them fail it.
            "capacity": tuple(
                conn.execute(
                    text("SELECT count(DISTINCT day), count(*), count(*) FILTER (WHERE NOT met) FROM care.capacity")
                ).one()
            ),
            # F1 quarantine orders on the demo's last day, from its quarantine stays and close contacts.
            "f1_orders": conn.execute(text("SELECT count(*) FROM care.f1_order")).scalar(),
            # Care, welfare, hotline: transfer requests (all, open), ledger entries, hotline requests.
            "staged": tuple(
                conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM care.transfer_request), "
                        "(SELECT count(*) FROM care.transfer_request WHERE status = 'open'), "
                        "(SELECT count(*) FROM welfare.delivery), (SELECT count(*) FROM hotline.request)"
                    )
                ).one()
            ),
        }


def test_demo_sets_up_an_empty_database_and_is_idempotent(empty_db_url, tmp_path):
    env = {"COVIDGIS_VAR_DIR": str(tmp_path), "COVIDGIS_SERVE_SUPPRESS_BELOW": "6"}  # 6: not the migration's 5
    run_cli("demo", "--no-serve", database_url=empty_db_url, env=env)
    engine = make_engine(empty_db_url)
    first = counts(engine)
    assert first["areas"] == {1: 1, 2: 11, 3: 170, 4: first["areas"][4]} and first["areas"][4] > 170 * 5
    assert first["batches"] == 14 and first["cases"] > 1000  # the fourteen synthetic feeds
    assert first["zone_days"] == 123  # 1 Jul – 31 Oct 2021
    assert first["zones"] == 123 * sum(first["areas"].values())
    assert (tmp_path / "demo-feeds" / "SYNTHETIC.txt").exists()
    assert first["published"] == ("vn-4800-2021", 6)  # the demo publishes before serving; the server only reads
    locations, not_public, contacts, runs = first["traced"]
    assert locations >= 1 and not_public >= 1 and contacts >= 1 and runs == 1  # traced once, then by batches
    # Every stage has something, through the commands a user runs.
    cli = {"database_url": empty_db_url, "env": env}
    occupancy = json.loads(run_cli("care", "occupancy", "--json", **cli).stdout)
    assert sum(t["occupied"] for t in occupancy["tiers"] if t["kind"] == "treatment") > 0
    assert first["f1_orders"] > 0
    capacity_days, capacity_rows, _ = first["capacity"]
    assert capacity_days == 123 and capacity_rows == 123 * (1 + 11)  # the province and its 11 districts, each day
    logistics = json.loads(run_cli("care", "logistics", "--date", "2021-10-31", "--json", **cli).stdout)
    assert logistics["facilities"] and logistics["alerts"]  # contracts sized below some facilities' need, or ended
    kinds = {a["alert"] for a in logistics["alerts"]}
    assert "no_meal_contract" in kinds and "no_support_team" not in kinds  # contracts end 15 Oct; teams serve on
    open_requests = json.loads(run_cli("care", "transfers", "--open", "--json", **cli).stdout)["requests"]
    assert [r for r in open_requests if r["status"] == "open" and r["offers"]]  # open, with free beds offered
    programme = ["--programme", "dongnai-4346-2021-poor-near-poor", "--date", "2021-09-20"]
    eligible = json.loads(run_cli("welfare", "eligible", *programme, "--commune", "26020", "--json", **cli).stdout)
    unreached = json.loads(run_cli("welfare", "unreached", *programme, "--commune", "26020", "--json", **cli).stdout)
    assert eligible["eligible"] > unreached["unreached"] >= 1  # some paid, some not reached yet
    with engine.connect() as conn:
        per_hamlet = conn.execute(
            text(
                "SELECT count(*) FROM admin.area WHERE level = 4 AND valid_to IS NULL "
                "AND code NOT IN (SELECT area_code FROM welfare.household WHERE area_code IS NOT NULL)"
            )
        ).scalar()
    assert per_hamlet == 0  # households in every hamlet
    requests, open_now, deliveries, hotline = first["staged"]
    assert requests > open_now >= 1 and deliveries > 0 and hotline >= 10
    notice = (tmp_path / "demo-feeds" / "SYNTHETIC.txt").read_text(encoding="utf-8")
    assert "households.csv" in notice and "dữ liệu mô phỏng / synthetic" in notice
    proc = run_cli("demo", "--no-serve", database_url=empty_db_url, env=env)
    assert "0 new" in proc.stderr, proc.stderr
    assert counts(engine) == first  # nothing ingested or recomputed twice
    engine.dispose()
