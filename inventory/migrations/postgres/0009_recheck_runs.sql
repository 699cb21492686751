-- A re-check of a few hosts or sites from the UI is a run of its own kind: its grades count
-- as any run's, but it is no point on the trend (a morning of re-checks would push the
-- daily scans off it).
ALTER TABLE scan_runs DROP CONSTRAINT scan_runs_kind_check;
ALTER TABLE scan_runs ADD CONSTRAINT scan_runs_kind_check CHECK (kind IN ('hosts', 'sites', 'scan', 'recheck'));
