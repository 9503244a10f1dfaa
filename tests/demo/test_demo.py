"""`covidgis demo --no-serve` sets up a database from nothing — boundaries, synthetic feeds, zones for the sample
period — and a second run reuses all of it."""

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
        }


def test_demo_sets_up_an_empty_database_and_is_idempotent(empty_db_url, tmp_path):
    env = {"COVIDGIS_VAR_DIR": str(tmp_path), "COVIDGIS_SERVE_SUPPRESS_BELOW": "6"}  # 6: not the migration's 5
    run_cli("demo", "--no-serve", database_url=empty_db_url, env=env)
    engine = make_engine(empty_db_url)
    first = counts(engine)
    assert first["areas"] == {1: 1, 2: 11, 3: 170, 4: first["areas"][4]} and first["areas"][4] > 170 * 5
    assert first["batches"] == 7 and first["cases"] > 1000  # the seven synthetic feeds
    assert first["zone_days"] == 123  # 1 Jul – 31 Oct 2021
    assert first["zones"] == 123 * sum(first["areas"].values())
    assert (tmp_path / "demo-feeds" / "SYNTHETIC.txt").exists()
    assert first["published"] == ("vn-4800-2021", 6)  # the demo publishes before serving; the server only reads
    locations, not_public, contacts, runs = first["traced"]
    assert locations >= 1 and not_public >= 1 and contacts >= 1 and runs == 1  # traced once, then by batches
    proc = run_cli("demo", "--no-serve", database_url=empty_db_url, env=env)
    assert "0 new" in proc.stderr, proc.stderr
    assert counts(engine) == first  # nothing ingested or recomputed twice
    engine.dispose()
