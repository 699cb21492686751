-- A run may poll hosts and sites together (`sixfive scan`), records the import it ran
-- against, and its owner beats a heart while it runs, so a run whose owner died can be told
-- from one still going.
ALTER TABLE scan_runs DROP CONSTRAINT scan_runs_kind_check;
ALTER TABLE scan_runs ADD CONSTRAINT scan_runs_kind_check CHECK (kind IN ('hosts', 'sites', 'scan'));
ALTER TABLE scan_runs ADD COLUMN heartbeat_at TIMESTAMPTZ;
ALTER TABLE scan_runs ADD COLUMN import_id BIGINT REFERENCES imports (id);
