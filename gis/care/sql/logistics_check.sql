-- The cross-row check of the three logistics registries (ingest/feeds/support_teams.yml, meal_contracts.yml,
-- waste_contracts.yml), for the ingest batch (as sql/admissions_check.sql: run after the duplicate-key check inside
-- the batch transaction, on `stage` and `problem`). One file for the three feeds: each statement reads its columns
-- from the staged row as JSON (to_jsonb), so a column a feed does not have is NULL and its statement rejects
-- nothing there. Rows rejected already (an unparseable date, a negative headcount…) are skipped: one reason a row.

-- name: period_order
-- A team or contract whose first day is after its last day serves no day: the clerk swapped or mistyped a date.
-- Dates are staged as ISO text when they parsed (a date that did not is rejected already); the guards keep a cast
-- from ever seeing anything else, whatever order the planner evaluates the conditions in.
INSERT INTO problem (_row, field, reason, message)
SELECT s._row, 'to_on', 'period_reversed',
       'Từ ngày ' || to_char(s.from_on, 'DD/MM/YYYY') || ' sau đến ngày ' || to_char(s.to_on, 'DD/MM/YYYY')
       || ' — from_on ' || s.from_on || ' is after to_on ' || s.to_on
FROM (SELECT d._row, CASE WHEN d.from_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN d.from_on::date END AS from_on,
             CASE WHEN d.to_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN d.to_on::date END AS to_on
      FROM (SELECT st._row, to_jsonb(st) ->> 'from_on' AS from_on, to_jsonb(st) ->> 'to_on' AS to_on
            FROM stage st
            WHERE NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = st._row)) d) s
WHERE s.to_on < s.from_on;
ANALYZE problem

-- name: negative_kg
-- Kilograms a day of a waste contract (a float: the type has no range check of its own).
INSERT INTO problem (_row, field, reason, message)
SELECT s._row, 'kg_per_day', 'out_of_range',
       'Khối lượng ' || s.kg || ' kg/ngày âm — kg_per_day ' || s.kg || ' is negative (at least 0)'
FROM (SELECT st._row, to_jsonb(st) ->> 'kg_per_day' AS kg
      FROM stage st
      WHERE NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = st._row)) s
WHERE CASE WHEN s.kg ~ '^[+-]?([0-9]{1,12}([.][0-9]*)?|[.][0-9]+)$' THEN s.kg::float8 < 0 ELSE false END;
ANALYZE problem

-- name: name_too_long
-- A supplier's or handler's name is untrusted text shown on pages and in the CLI: at most 200 characters.
INSERT INTO problem (_row, field, reason, message)
SELECT s._row, s.field, 'value_too_long',
       'Tên ' || length(s.name) || ' ký tự, tối đa 200 — ' || s.field || ': ' || length(s.name)
       || ' characters; at most 200 are accepted'
FROM (SELECT st._row, f.field, to_jsonb(st) ->> f.field AS name
      FROM stage st CROSS JOIN (VALUES ('supplier'), ('handler')) f(field)
      WHERE NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = st._row)) s
WHERE length(s.name) > 200;
ANALYZE problem
