-- History without bloat (engine.md): a check result is stored once per finding, as a
-- version valid from the run that found it up to (not including) the run that found
-- otherwise; to_run is NULL while it is current. A result's key is (host, check_id,
-- family, address, port), with '' and 0 standing for "none" so keys compare with =.
CREATE TABLE result_versions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host TEXT NOT NULL,
    check_id TEXT NOT NULL,
    family TEXT NOT NULL,
    address TEXT NOT NULL,
    port BIGINT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    hint TEXT,
    evidence JSONB NOT NULL,
    -- Where the result stands among its host's, for reading a run back in check order.
    position BIGINT NOT NULL,
    from_run BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    to_run BIGINT
);
-- A key has one current version: writers that raced would otherwise leave two.
CREATE UNIQUE INDEX result_versions_current
    ON result_versions (host, check_id, family, address, port) WHERE to_run IS NULL;
-- Versions of a host that ended after a run, for writing and reading one back.
CREATE INDEX result_versions_ended ON result_versions (host, to_run) WHERE to_run IS NOT NULL;
-- Superseded versions whose evidence retention has yet to thin: shrinks as it does.
CREATE INDEX result_versions_thinnable
    ON result_versions (to_run) WHERE to_run IS NOT NULL AND evidence <> 'null';
-- Site samples whose raw readings retention has yet to thin.
CREATE INDEX site_samples_thinnable ON site_samples (run_id) WHERE data <> 'null';

-- The latest measurements per key, overwritten by every run that finds the key again.
CREATE TABLE result_latest (
    host TEXT NOT NULL,
    check_id TEXT NOT NULL,
    family TEXT NOT NULL,
    address TEXT NOT NULL,
    port BIGINT NOT NULL,
    run_id BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    duration_ms DOUBLE PRECISION,
    measurements JSONB NOT NULL,
    PRIMARY KEY (host, check_id, family, address, port)
);

-- Results stored a row per run become versions as they were: each valid until the next
-- run that covered its host. A key reported twice in one run keeps its last row.
INSERT INTO result_versions
    (host, check_id, family, address, port, status, detail, hint, evidence, position, from_run, to_run)
SELECT host, check_id, family, address, port, status, detail, hint, evidence, position, run_id,
       (SELECT MIN(later.run_id) FROM check_results later
        WHERE later.host = numbered.host AND later.run_id > numbered.run_id)
FROM (SELECT r.run_id, r.host, r.check_id, COALESCE(r.family, '') AS family,
             COALESCE(r.address, '') AS address, COALESCE(r.port, 0) AS port,
             r.status, r.detail, r.hint, r.evidence,
             ROW_NUMBER() OVER (PARTITION BY r.run_id, r.host ORDER BY r.id) AS position,
             ROW_NUMBER() OVER (
                 PARTITION BY r.run_id, r.host, r.check_id, COALESCE(r.family, ''),
                              COALESCE(r.address, ''), COALESCE(r.port, 0)
                 ORDER BY r.id DESC) AS newest_first
      FROM check_results r) numbered
WHERE newest_first = 1;
INSERT INTO result_latest (host, check_id, family, address, port, run_id, duration_ms, measurements)
SELECT r.host, r.check_id, COALESCE(r.family, ''), COALESCE(r.address, ''), COALESCE(r.port, 0),
       r.run_id, MAX(r.duration_ms), '{}'
FROM check_results r
WHERE r.run_id = (SELECT MAX(newest.run_id) FROM check_results newest WHERE newest.host = r.host)
GROUP BY r.host, r.check_id, COALESCE(r.family, ''), COALESCE(r.address, ''), COALESCE(r.port, 0), r.run_id;
DROP TABLE check_results;
