-- The checks each host fails now, for the terminal UI's lists: a few rows however long the
-- history, rather than a scan of every version ever stored.
CREATE INDEX result_versions_failing
    ON result_versions (host, check_id) WHERE to_run IS NULL AND status = 'fail';
