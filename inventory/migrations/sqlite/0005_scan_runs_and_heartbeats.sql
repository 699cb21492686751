-- no-transaction
-- A run may poll hosts and sites together (`sixfive scan`), records the import it ran
-- against, and its owner beats a heart while it runs, so a run whose owner died can be told
-- from one still going. SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt; foreign keys are off meanwhile, since
-- dropping the old table with them on would delete every result it holds.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE scan_runs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
    kind TEXT NOT NULL DEFAULT 'hosts' CHECK (kind IN ('hosts', 'sites', 'scan')),
    heartbeat_at TEXT,
    import_id INTEGER REFERENCES imports (id)
);
INSERT INTO scan_runs_new (id, agent, started_at, finished_at, status, kind)
    SELECT id, agent, started_at, finished_at, status, kind FROM scan_runs;
-- Ids are never handed out twice, not even those of runs since deleted.
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'scan_runs_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'scan_runs_new');
UPDATE sqlite_sequence
    SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'scan_runs'), 0))
    WHERE name = 'scan_runs_new';
DROP TABLE scan_runs;
ALTER TABLE scan_runs_new RENAME TO scan_runs;
COMMIT;
PRAGMA foreign_keys = ON;
