-- Set-based checks of a staged batch. insert_problems runs every check of the feed in one pass. A row goes on to the
-- per-check list only when one of its checks fails (all checks OR-ed in one WHERE: most rows are good and cost just
-- that); there each check is a row (failed, k, field, reason) of a VALUES list composed per field from the feed, and
-- only the checks that failed get their message (CASE k), so the clerk's sentence is built for failures only. A
-- check is two fragments: <check> (true when the value fails) and <check>_message. Casts sit behind CASE so that a
-- value is only cast once its shape is known good.

-- name: insert_problems
INSERT INTO problem (_row, field, reason, message)
SELECT s._row, c.field, c.reason, CASE c.k {messages} END
FROM (SELECT * FROM stage s WHERE {any_failed}) s
CROSS JOIN LATERAL (VALUES {checks}) AS c(failed, k, field, reason)
WHERE c.failed;
ANALYZE problem

-- name: flaw
-- What transform.py found wrong with the row as a whole: reason, field and message come with the row.
s._reason IS NOT NULL
-- name: flaw_message
s._message

-- name: shown
-- A value as a message quotes it: at most 80 characters (a value may hold 32,767).
CASE WHEN length(s.{col}) > 80 THEN left(s.{col}, 80) || '…' ELSE s.{col} END

-- name: missing
s.{col} IS NULL
-- name: missing_message
{label} || ' is empty; it is required'

-- name: unparseable_date
{field} = ANY (s._bad)
-- name: unparseable_date_message
{label} || ': "' || coalesce({value}, '') || '" is not a date written ' || {hint}

-- name: future_date
-- A parsed date is staged as ISO text (YYYY-MM-DD, transform.py), which orders as the date does under byte
-- comparison (COLLATE "C"): compared with today's date as text, computed once (InitPlan), no cast per row.
CASE WHEN s.{col} IS NULL OR {field} = ANY (s._bad) THEN false
     ELSE s.{col} COLLATE "C" > (SELECT to_char(now() AT TIME ZONE {tz}, 'YYYY-MM-DD')) END
-- name: future_date_message
{label} || ': ' || s.{col} || ' is in the future'

-- name: future_timestamp
-- Parsed timestamps are staged as ISO text (YYYY-MM-DD HH:MM:SS[.ffffff]), see future_date.
CASE WHEN s.{col} IS NULL OR {field} = ANY (s._bad) THEN false
     ELSE s.{col} COLLATE "C" > (SELECT to_char((now() AT TIME ZONE {tz}) + make_interval(mins => {slack}),
                                                'YYYY-MM-DD HH24:MI:SS')) END
-- name: future_timestamp_message
{label} || ': ' || s.{col} || ' is in the future'

-- name: number
s.{col} !~ {pattern}
-- name: number_message
{label} || ': "' || {value} || '" is not ' || {kind}

-- name: range
CASE WHEN s.{col} ~ {pattern} THEN s.{col}::numeric NOT BETWEEN {min} AND {max} ELSE false END
-- name: range_message
{label} || ': ' || {value} || ' is outside ' || {range}

-- name: birth_year
CASE WHEN s.{col} ~ {pattern} THEN s.{col}::numeric NOT BETWEEN 1900 AND extract(year FROM now()) ELSE false END
-- name: birth_year_message
{label} || ': ' || {value} || ' is not a plausible birth year (1900 to this year)'

-- name: vocabulary
s.{col} <> ALL ({values})
-- name: vocabulary_message
{label} || ': "' || {value} || '" is not one of ' || {allowed}

-- name: check_duplicate_keys
-- Within one file the first good row of a key wins; later rows with that key are rejected. Runs after the
-- other checks so that a bad first row does not push out a good later one.
INSERT INTO problem (_row, field, reason, message)
SELECT d._row, {field}, 'duplicate_key', 'the key ' || d.key_text || ' already appears in row ' || d.first_row
FROM (SELECT s._row, {key_text} AS key_text, first_value(s._row) OVER w AS first_row, row_number() OVER w AS n
      FROM stage s
      WHERE NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = s._row)
      WINDOW w AS (PARTITION BY {keys} ORDER BY s._row)) d
WHERE d.n > 1;
ANALYZE problem
