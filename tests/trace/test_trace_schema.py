"""Migrations 0007 and 0022: the trace schema, its exposure and contact views, and who may read it."""

from sqlalchemy import create_engine, text


def test_trace_tables_and_grants(empty_db_url):
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        tables = set(
            conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'trace'")
            ).scalars()
        )
        assert tables >= {
            "case_window",
            "visit",
            "exposure",
            "exposure_pair",
            "exposure_kept",
            "notification",
            "location",
            "run",
        }
        assert "contact" in tables
        restricted = conn.execute(
            text("SELECT has_table_privilege('covidgis_restricted', 'trace.location', 'SELECT')")
        ).scalar_one()
        public = conn.execute(text("SELECT has_schema_privilege('covidgis_public', 'trace', 'USAGE')")).scalar_one()
        assert restricted and not public
        assert conn.execute(text("SELECT count(*) FROM trace.contact")).scalar_one() == 0
    engine.dispose()
