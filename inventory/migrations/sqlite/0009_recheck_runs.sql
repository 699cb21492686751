-- no-transaction
-- A re-check of a few hosts or sites from the UI is a run of its own kind: its grades count
-- as any run's, but it is no point on the trend (a morning of re-checks would push the
-- daily scans off it). SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt as in 0005, with foreign keys off meanwhile: dropping the old table with them on
-- would delete every result it holds.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE scan_runs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
    kind TEXT NOT NULL DEFAULT 'hosts' CHECK (kind IN ('hosts', 'sites', 'scan', 'recheck')),
    heartbeat_at TEXT,
    import_id INTEGER REFERENCES imports (id)
);
INSERT INTO scan_runs_new (id, agent, started_at, finished_at, status, kind, heartbeat_at, import_id)
    SELECT id, agent, started_at, finished_at, status, kind, heartbeat_at, import_id FROM scan_runs;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'scan_runs_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'scan_runs_new');
UPDATE sqlite_sequence
    SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'scan_runs'), 0))
    WHERE name = 'scan_runs_new';
DROP TABLE scan_runs;
ALTER TABLE scan_runs_new RENAME TO scan_runs;
COMMIT;
PRAGMA foreign_keys = ON;
