"""`covidgis demo --no-serve` sets up a database from nothing, and a second run reuses it."""


from sqlalchemy import text

from conftest import run_cli
from gis.db.engine import make_engine


def test_demo_sets_up_an_empty_database_and_is_idempotent(empty_db_url):
    run_cli("demo", "--no-serve", database_url=empty_db_url)
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        counts = dict(conn.execute(text("SELECT level, count(*) FROM pub.areas GROUP BY level")).all())
        loads = conn.execute(text("SELECT count(*) FROM admin.boundary_load")).scalar()
    assert counts[1] == 1 and counts[2] == 11 and counts[3] == 170 and counts[4] > 0
    proc = run_cli("demo", "--no-serve", database_url=empty_db_url)
    assert "0 new" in proc.stderr, proc.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.area")).scalar() == sum(counts.values()) + 1
        assert conn.execute(text("SELECT count(*) FROM admin.boundary_load")).scalar() == loads + 1
    engine.dispose()
