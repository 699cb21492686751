-- A run polls hosts or sites; a host scan's regressions compare with host runs only.
ALTER TABLE scan_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'hosts' CHECK (kind IN ('hosts', 'sites'));
