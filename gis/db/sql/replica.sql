-- Statements of the hot-standby replicas (gis/db/replica.py) and of /health on a replica (gis/serve/app.py).

-- name: primary_ready
-- What a primary needs for a streaming replica with a slot: WAL for replicas, a free WAL sender, a free slot.
SELECT pg_is_in_recovery() AS in_recovery,
       current_setting('wal_level') AS wal_level,
       current_setting('max_wal_senders')::int AS max_wal_senders,
       (SELECT count(*) FROM pg_stat_replication) AS wal_senders,
       current_setting('max_replication_slots')::int AS max_replication_slots,
       (SELECT count(*) FROM pg_replication_slots) AS slots,
       EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = %(slot)s) AS slot_exists;

-- name: replay_position
-- On a standby: the WAL received and replayed (bytes from 0/0; NULL on a primary), and whether a WAL receiver runs
-- (its row is visible to any role, its details only to pg_read_all_stats). gis.db.replica.LagWatch makes a lag of it.
SELECT pg_is_in_recovery() AS standby,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')::bigint AS received,
       pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint AS replayed,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS receiving;

-- name: standby_status
-- The replica's side of `covidgis db replica status` (as a superuser: the receiver's slot and state). Its lag is the
-- usual one-look estimate: 0 when all WAL received is replayed, else the age of the last replayed transaction (an
-- upper bound: after an idle primary it counts the idle time too).
SELECT pg_is_in_recovery() AS standby,
       pg_is_wal_replay_paused() AS replay_paused,
       pg_last_wal_receive_lsn()::text AS received_lsn,
       pg_last_wal_replay_lsn()::text AS replayed_lsn,
       coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::bigint AS unreplayed_bytes,
       CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0
            ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0.0)::float8
       END AS lag_seconds,
       (SELECT status FROM pg_stat_wal_receiver) AS receiver,
       (SELECT slot_name FROM pg_stat_wal_receiver) AS receiver_slot;

-- name: primary_position
-- The primary's side: bytes of WAL it has written that the replica has not replayed, and what its slot keeps.
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(%(replayed)s AS pg_lsn))::bigint AS bytes_behind,
       (SELECT active FROM pg_replication_slots WHERE slot_name = %(slot)s) AS slot_active,
       (SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
        FROM pg_replication_slots WHERE slot_name = %(slot)s) AS slot_retained_bytes;

-- name: slot_retained
-- A slot on the primary: whether a WAL sender streams from it and how much WAL it keeps (no row: no such slot).
SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained
FROM pg_replication_slots WHERE slot_name = %(slot)s;

-- name: drop_slot
SELECT pg_drop_replication_slot(%(slot)s);
