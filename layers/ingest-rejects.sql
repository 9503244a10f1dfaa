-- Restricted layer `ingest-rejects`: rows the ingest refused, with the reason a clerk can act on. No geometry.
CREATE OR REPLACE VIEW restricted.ingest_rejects AS
SELECT r.id, b.feed, r.batch_id, r.file_name, r.row_number, r.field, r.reason, r.message, r.record,
       b.started_at AS batch_started_at, NULL::geometry(Point, 4326) AS geom
FROM ingest.reject r
JOIN ingest.batch b ON b.id = r.batch_id;
