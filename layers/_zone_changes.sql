-- Not a collection: the change feed of the public zones, which the `zones` collection answers `changed-since=V`
-- from (gis/serve/provider.py). Written by gis/risk/changes.py (tables: migration 0010). Codes and versions only: the
-- zones themselves are read from pub.zones, with its masking.
-- zone_changes: per snapshot version, the codes whose public level or colour changed in it.
CREATE OR REPLACE VIEW pub.zone_changes AS
SELECT c.version, c.code FROM risk.zone_change c;

-- zone_feed: the oldest V the feed answers (every change after it is kept; an older V is a 410) and the current
-- snapshot version.
CREATE OR REPLACE VIEW pub.zone_feed AS
SELECT f.oldest_version, s.version AS current_version FROM risk.zone_feed f CROSS JOIN risk.snapshot s;
