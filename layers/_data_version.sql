-- Not a collection: the change markers of the published data, for HTTP caching (ETag / Last-Modified) and the
-- provider's count cache. Four numbers and a time; readable by the public role. `trace`: the last trace run, which
-- may have published or withdrawn locations of interest.
CREATE OR REPLACE VIEW pub.data_version AS
SELECT (SELECT version FROM risk.snapshot) AS zones,
       (SELECT max(id) FROM admin.boundary_load) AS boundaries,
       (SELECT max(id) FROM ingest.batch WHERE feed = 'facilities') AS facilities,
       greatest((SELECT changed_at FROM risk.snapshot),
                (SELECT max(finished_at) FROM trace.run),
                (SELECT max(loaded_at) FROM admin.boundary_load),
                (SELECT max(finished_at) FROM ingest.batch WHERE feed = 'facilities')) AS changed_at,
       (SELECT max(run_id) FROM trace.run) AS trace;  -- last: CREATE OR REPLACE VIEW only appends columns
