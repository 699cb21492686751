-- The trend: per complete run that graded hosts, how many of the inventory's hosts stood at
-- each level, per agency, as the run finished. A run may grade only some hosts (one re-check,
-- one agency), so a run's counts carry every other host's newest grade forward; kept as runs
-- finish, a trend reads a few hundred rows instead of every grade of its runs.
CREATE TABLE run_levels (
    run_id BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    agency TEXT NOT NULL,
    level TEXT NOT NULL,
    hosts BIGINT NOT NULL,
    PRIMARY KEY (run_id, agency, level)
);

-- The runs a trend shows (the newest 12), counted from the grades already stored: each
-- host's newest conclusive grade in a complete run at or before the run. Older runs are on
-- no trend and stay uncounted.
WITH graded AS (
    SELECT l.host, l.run_id, l.level,
           LEAD(l.run_id) OVER (PARTITION BY l.host ORDER BY l.run_id) AS next_run
    FROM host_levels l
    JOIN scan_runs r ON r.id = l.run_id
    WHERE r.status = 'complete' AND r.kind <> 'sites' AND NOT l.inconclusive
), shown AS (
    SELECT id FROM scan_runs
    WHERE status = 'complete' AND kind <> 'sites'
    ORDER BY id DESC LIMIT 12
)
INSERT INTO run_levels (run_id, agency, level, hosts)
SELECT s.id, COALESCE(e.agency, ''), g.level, COUNT(*)
FROM shown s
JOIN graded g ON g.run_id <= s.id AND (g.next_run IS NULL OR g.next_run > s.id)
JOIN entities e ON e.kind = 'host' AND e.key = g.host AND e.removed_at IS NULL
GROUP BY s.id, e.agency, g.level;
