-- Classification of observations by a clinical rule set (gis/care/classify.py generates the parts from the rules:
-- no threshold is written here). {severity}: CASE over the classes in file order, the first that holds wins;
-- {class_tier}: the same CASE giving the class's required tier; {warning}: whether a warning sign of a set in
-- force on the observation's local day (%(tz)s) holds; {warning_tier}: the tier a warning sign sends a patient
-- to. A sign that also meets a class keeps the higher of the two tiers (greatest ignores NULL: no class, a sign:
-- the warning tier). An observation without the vitals a class needs gets no class (NULL): the caller decides.

-- name: classify
SELECT c.obs_id, c.severity, c.warning,
       CASE WHEN c.warning THEN greatest(c.class_tier, {warning_tier}) ELSE c.class_tier END AS required_tier
FROM (SELECT o.obs_id, {severity} AS severity, {class_tier} AS class_tier, {warning} AS warning
      FROM {observations} o) c

-- name: create_observations
-- A batch of observations to classify (the columns of the observations feed that the rules read).
CREATE TEMP TABLE care_obs (obs_id text PRIMARY KEY, at timestamptz NOT NULL, spo2 numeric, resp_rate numeric,
                            pulse numeric, temp_c numeric, systolic_bp numeric, conscious boolean, symptoms text)
    ON COMMIT DROP

-- name: insert_observation
INSERT INTO care_obs (obs_id, at, spo2, resp_rate, pulse, temp_c, systolic_bp, conscious, symptoms)
VALUES (%(obs_id)s, %(at)s, %(spo2)s, %(resp_rate)s, %(pulse)s, %(temp_c)s, %(systolic_bp)s, %(conscious)s,
        %(symptoms)s)
