-- Staging of one batch. Temporary tables are the one DDL a batch runs besides new check-in day partitions
-- (merge.sql): they live in the batch transaction only (ON COMMIT DROP) and vanish with a killed session,
-- so raw rows never persist. The person field arrives already pseudonymised (HMAC in Python, pseudonym.py): the
-- raw identifier never reaches the server, not even a temporary table.

-- name: prepare
SET LOCAL work_mem = '256MB'

-- name: create_stage
-- _bad: the fields whose value did not convert (dates); _reason, _field, _message: what is wrong with the row as a
-- whole, seen while it was read (transform.py: too many or too few cells, a NUL, a value too long), or NULL.
-- _hash: md5(ROW(<the staged values>)::text), computed while the row was read (rowcode.py), stored as row_hash.
CREATE TEMP TABLE stage (_row integer NOT NULL, _bad text[], _reason text, _field text, _message text, _hash text,
                         {columns})
    ON COMMIT DROP

-- name: copy_stage
COPY stage (_row, _bad, _reason, _field, _message, _hash, {names}) FROM STDIN WITH ({options})

-- name: create_work
CREATE TEMP TABLE problem (_row integer NOT NULL, field text, reason text NOT NULL, message text NOT NULL)
    ON COMMIT DROP;
CREATE TEMP TABLE located (_row integer PRIMARY KEY, area_code text, commune_code text, located_by text,
                           snap_m double precision) ON COMMIT DROP;
ANALYZE stage
