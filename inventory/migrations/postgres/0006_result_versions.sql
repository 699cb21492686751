-- History without bloat (engine.md): a check result is stored once per finding, as a
-- version valid from the run that found it up to (not including) the run that found
-- otherwise; to_run is NULL while it is current. A result's key is (host, check_id,
-- family, address, port, occurrence), with '' and 0 standing for "none" so keys compare
-- with =; occurrence tells apart the results a check reports under one key in a run (one
-- per zone, UDP and TCP to one name server), in the order it reported them.
CREATE TABLE result_versions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host TEXT NOT NULL,
    check_id TEXT NOT NULL,
    family TEXT NOT NULL,
    address TEXT NOT NULL,
    port BIGINT NOT NULL,
    occurrence BIGINT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    hint TEXT,
    evidence JSONB NOT NULL,
    -- Where the result's check stands among its host's checks, for reading a run back in
    -- check order; within a check, results read back by family, address, port, occurrence.
    position BIGINT NOT NULL,
    from_run BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    to_run BIGINT
);
-- A key has one current version: writers that raced would otherwise leave two.
CREATE UNIQUE INDEX result_versions_current
    ON result_versions (host, check_id, family, address, port, occurrence) WHERE to_run IS NULL;
-- Versions of a host that ended after a run, for writing and reading one back.
CREATE INDEX result_versions_ended ON result_versions (host, to_run) WHERE to_run IS NOT NULL;
-- Superseded versions whose evidence retention has yet to thin: shrinks as it does.
CREATE INDEX result_versions_thinnable
    ON result_versions (to_run) WHERE to_run IS NOT NULL AND evidence <> 'null';

-- Per host, what the newest run that graded it found: a digest of its findings (a run
-- that finds the same skips comparing result by result) and the latest timings and
-- measurements of each result, by key, overwritten by every run.
CREATE TABLE host_latest (
    host TEXT PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    timings JSONB NOT NULL
);

-- Each host's level in the newest complete run that graded it conclusively: what a
-- regression is measured against, kept as runs complete instead of searched for.
CREATE TABLE host_current (
    host TEXT PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    level TEXT NOT NULL
);
INSERT INTO host_current (host, run_id, level)
SELECT l.host, l.run_id, l.level FROM host_levels l
JOIN (SELECT h.host, MAX(h.run_id) AS run_id FROM host_levels h
      JOIN scan_runs r ON r.id = h.run_id
      WHERE r.status = 'complete' AND NOT h.inconclusive
      GROUP BY h.host) newest
ON newest.host = l.host AND newest.run_id = l.run_id;
-- Grades are read by run (the primary key) and, per host, from host_current.
DROP INDEX host_levels_host;

-- Results stored a row per run become versions as they were, numbered as the writer
-- numbers them.
CREATE TEMP TABLE numbered AS
SELECT r.run_id, r.host, r.check_id, COALESCE(r.family, '') AS family,
       COALESCE(r.address, '') AS address, COALESCE(r.port, 0) AS port,
       r.status, r.detail, r.hint, r.evidence, r.duration_ms,
       DENSE_RANK() OVER (PARTITION BY r.run_id, r.host ORDER BY r.first_id) AS position,
       ROW_NUMBER() OVER (
           PARTITION BY r.run_id, r.host, r.check_id, COALESCE(r.family, ''),
                        COALESCE(r.address, ''), COALESCE(r.port, 0)
           ORDER BY r.id) - 1 AS occurrence
FROM (SELECT *, MIN(id) OVER (PARTITION BY run_id, host, check_id) AS first_id
      FROM check_results) r;
CREATE INDEX numbered_host ON numbered (host, run_id);
-- The runs that covered each host: those that graded it, and those that stored results
-- for it (before grades were stored, or when a run ended between the two writes).
CREATE TEMP TABLE covered AS
SELECT run_id, host FROM check_results UNION SELECT run_id, host FROM host_levels;
CREATE INDEX covered_host ON covered (host, run_id);
-- Each valid until the next run that covered its host.
INSERT INTO result_versions
    (host, check_id, family, address, port, occurrence, status, detail, hint, evidence,
     position, from_run, to_run)
SELECT n.host, n.check_id, n.family, n.address, n.port, n.occurrence, n.status, n.detail,
       n.hint, n.evidence, n.position, n.run_id,
       (SELECT MIN(c.run_id) FROM covered c WHERE c.host = n.host AND c.run_id > n.run_id)
FROM numbered n;
INSERT INTO host_latest (host, run_id, digest, timings)
SELECT n.host, n.run_id, '',
       jsonb_object_agg(
           n.check_id || '|' || n.family || '|' || n.address || '|' || n.port::text
               || CASE WHEN n.occurrence > 0 THEN '|' || n.occurrence::text ELSE '' END,
           jsonb_build_array(n.duration_ms, '{}'::jsonb))
FROM numbered n
WHERE n.run_id = (SELECT MAX(newest.run_id) FROM numbered newest WHERE newest.host = n.host)
GROUP BY n.host, n.run_id;
DROP TABLE numbered;
DROP TABLE covered;
DROP TABLE check_results;
