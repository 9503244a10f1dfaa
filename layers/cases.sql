-- Restricted layer `cases`: confirmed cases (F0) as pseudonymised points. Credentials needed (role covidgis_restricted).
CREATE OR REPLACE VIEW restricted.cases AS
SELECT c.case_id, c.person_key, c.birth_year, c.sex, c.detected_on, c.detection_setting, c.source_known,
       c.cluster_id, c.setting, c.status, c.facility_id, c.area_code, c.commune_code, c.located_by, c.batch_id,
       c.geom
FROM events.cases c;
