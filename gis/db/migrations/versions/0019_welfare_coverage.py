"""welfare: coverage per hamlet and programme (issue 14 item 5), behind the public layer `welfare-coverage`

`welfare.coverage` holds, per programme and hamlet, what `covidgis welfare coverage` computed on a day: the
households eligible (verdict true), to confirm (an officer decides), reached (eligible and holding a delivery by the
not-yet-reached list's rule, so eligible − reached = the list's length), delivered (households holding a delivery
of the programme, whatever their verdict) and the cash delivered. Eligibility is decided from the programme's YAML
(gis/welfare/programmes.py), which a view cannot read, hence a table refreshed by the command. Exact counts: the
public view (layers/welfare-coverage.sql) suppresses and bands them; the public role cannot read schema welfare.

`welfare.household` becomes a table kept by triggers on events.households (it was a view: at 1 M households its
DISTINCT ON over 3.5 M member rows took 15 s per read on a loaded 2-core machine, and a commune's list read the whole
province, the view's filter not reaching below its DISTINCT ON). Same columns, same rows: after every statement
that inserts, updates or deletes feed rows, the households it touched are recomputed from their rows by the view's
own definition (welfare.refresh_households); a TRUNCATE empties it. Indexed by commune and hamlet.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

FLAGS = ("poor", "near_poor", "elderly_alone", "disabled", "lost_income", "migrant_worker", "covid_household")
COLUMNS = ", ".join(
    ["household_id", "area_code", "commune_code", "size", "address", *FLAGS, "head_person_key", "members"]
)
# The definition of 0015's view, for the households whose ids are in `touched` (a set the caller names).
ROWS = f"""
SELECT DISTINCT ON (h.household_id)
    h.household_id, h.area_code, h.commune_code, h.size, h.address,
    {", ".join(f"h.{f}" for f in FLAGS)},
    g.head_person_key, g.members
FROM events.households h
JOIN (
    SELECT x.household_id,
           (array_agg(x.person_key ORDER BY x.batch_id DESC) FILTER (WHERE x.role = 'head'))[1] AS head_person_key,
           (count(*) FILTER (WHERE x.role IS DISTINCT FROM 'left'))::int AS members
    FROM events.households x
    WHERE x.household_id = ANY(touched)
    GROUP BY x.household_id
) g ON g.household_id = h.household_id
WHERE h.role IS DISTINCT FROM 'left' AND h.household_id = ANY(touched)
ORDER BY h.household_id, (h.role = 'head') DESC, h.batch_id DESC, h.person_key
"""
REFRESH = f"""
CREATE FUNCTION welfare.refresh_households(touched text[]) RETURNS void LANGUAGE sql AS $$
DELETE FROM welfare.household WHERE household_id = ANY(touched);
INSERT INTO welfare.household ({COLUMNS}) {ROWS};
$$
"""
TRIGGER = """
CREATE FUNCTION welfare.households_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE welfare.household;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM welfare.refresh_households(ARRAY(SELECT DISTINCT household_id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM welfare.refresh_households(
            ARRAY(SELECT household_id FROM new_rows UNION SELECT household_id FROM old_rows));
    ELSE
        PERFORM welfare.refresh_households(ARRAY(SELECT DISTINCT household_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$
"""
HOUSEHOLD_VIEW_0015 = f"""
CREATE VIEW welfare.household AS
SELECT DISTINCT ON (h.household_id)
    h.household_id, h.area_code, h.commune_code, h.size, h.address,
    {", ".join(f"h.{f}" for f in FLAGS)},
    g.head_person_key, g.members
FROM events.households h
JOIN (
    SELECT x.household_id,
           (array_agg(x.person_key ORDER BY x.batch_id DESC) FILTER (WHERE x.role = 'head'))[1] AS head_person_key,
           (count(*) FILTER (WHERE x.role IS DISTINCT FROM 'left'))::int AS members
    FROM events.households x
    GROUP BY x.household_id
) g ON g.household_id = h.household_id
WHERE h.role IS DISTINCT FROM 'left'
ORDER BY h.household_id, (h.role = 'head') DESC, h.batch_id DESC, h.person_key
"""

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE welfare.household_kept AS SELECT * FROM welfare.household")
    op.execute("DROP VIEW welfare.household")
    op.execute("ALTER TABLE welfare.household_kept RENAME TO household")
    op.execute("ALTER TABLE welfare.household ADD PRIMARY KEY (household_id)")
    op.create_index("household_area_idx", "household", ["commune_code", "area_code"], schema="welfare")
    op.execute(REFRESH)
    op.execute(TRIGGER)
    for event, transition in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER households_{event.lower()} AFTER {event} ON events.households REFERENCING {transition} "
            "FOR EACH STATEMENT EXECUTE FUNCTION welfare.households_changed()"
        )
    op.execute(
        "CREATE TRIGGER households_truncate AFTER TRUNCATE ON events.households "
        "FOR EACH STATEMENT EXECUTE FUNCTION welfare.households_changed()"
    )
    op.execute("GRANT SELECT ON welfare.household TO covidgis_restricted")
    op.create_table(
        "coverage",
        sa.Column("programme", sa.Text, nullable=False),
        sa.Column("area_code", sa.Text, nullable=False),
        sa.Column("commune_code", sa.Text),
        sa.Column("title_vi", sa.Text, nullable=False),
        sa.Column("title_en", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),  # the day eligibility and deliveries are counted on
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("eligible", sa.Integer, nullable=False),
        sa.Column("to_confirm", sa.Integer, nullable=False),
        sa.Column("reached", sa.Integer, nullable=False),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("value_vnd", sa.BigInteger, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("programme", "area_code"),
        sa.CheckConstraint("reached <= eligible AND reached <= delivered", name="coverage_reached_ck"),
        schema="welfare",
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS pub.welfare_coverage")  # layers/welfare-coverage.sql reads the table
    op.drop_table("coverage", schema="welfare")
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER households_{event} ON events.households")
    op.execute("DROP FUNCTION welfare.households_changed()")
    op.execute("DROP FUNCTION welfare.refresh_households(text[])")
    op.execute("DROP TABLE welfare.household")
    op.execute(HOUSEHOLD_VIEW_0015)
    op.execute("GRANT SELECT ON welfare.household TO covidgis_restricted")
