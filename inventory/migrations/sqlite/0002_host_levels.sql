-- Each host's grade per scan run, for trends and for spotting regressions.
CREATE TABLE host_levels (
    run_id INTEGER NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    level TEXT NOT NULL,
    score INTEGER NOT NULL,
    inconclusive BOOLEAN NOT NULL,
    regressed BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, host)
);
CREATE INDEX host_levels_host ON host_levels (host, run_id);
