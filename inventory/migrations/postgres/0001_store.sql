-- The inventory as imported, with the history of every change, scan runs with their
-- results and site samples, and an audit log of hand edits.

CREATE TABLE imports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    source TEXT NOT NULL,
    who TEXT NOT NULL,
    added BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    removed BIGINT NOT NULL
);

-- Agencies, hosts and sites as last imported; a removed one keeps its row and history.
CREATE TABLE entities (
    kind TEXT NOT NULL CHECK (kind IN ('agency', 'host', 'site')),
    key TEXT NOT NULL,
    agency TEXT,
    doc JSONB NOT NULL,
    added_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ,
    PRIMARY KEY (kind, key)
);

CREATE TABLE entity_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    import_id BIGINT NOT NULL REFERENCES imports (id),
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('added', 'changed', 'removed')),
    before JSONB,
    after JSONB
);
CREATE INDEX entity_history_key ON entity_history (kind, key);

CREATE TABLE scan_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete'))
);

CREATE TABLE check_results (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    check_id TEXT NOT NULL,
    status TEXT NOT NULL,
    family TEXT,
    address TEXT,
    port BIGINT,
    duration_ms DOUBLE PRECISION,
    detail TEXT NOT NULL,
    hint TEXT,
    evidence JSONB NOT NULL
);
CREATE INDEX check_results_run ON check_results (run_id, host);
CREATE INDEX check_results_host ON check_results (host, run_id);

CREATE TABLE site_samples (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    site TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    reasons JSONB NOT NULL,
    data JSONB NOT NULL
);
CREATE INDEX site_samples_site ON site_samples (site, at);

-- Stage, owner and note as edited by hand (TUI or CLI), over what the inventory file says.
CREATE TABLE annotations (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    field TEXT NOT NULL CHECK (field IN ('stage', 'owner', 'note')),
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key, field)
);

CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    who TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX audit_log_key ON audit_log (kind, key);
