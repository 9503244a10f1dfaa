-- The observations feed's cross-row check, for the ingest batch (as sql/admissions_check.sql: run after the
-- duplicate-key check inside the batch transaction, on `stage` and `problem`). A temperature outside 30–45 °C is
-- impossible in a living patient's reading (issue 13, "Bad input"): rejected with a reason, never classified. SpO2
-- outside 30–100 % is the feed's own range check (ingest/feeds/observations.yml).

-- name: impossible_temperature
INSERT INTO problem (_row, field, reason, message)
SELECT s._row, 'temp_c', 'impossible_value',
       'Nhiệt độ ' || s.temp_c || ' °C ngoài khoảng 30–45 °C — temperature ' || s.temp_c || ' °C outside 30–45 °C'
FROM stage s
WHERE s.temp_c ~ '^[+-]?([0-9]{1,12}([.][0-9]*)?|[.][0-9]+)$'
  AND (s.temp_c::float8 < 30 OR s.temp_c::float8 > 45)
  AND NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = s._row AND p.field = 'temp_c');
ANALYZE problem
