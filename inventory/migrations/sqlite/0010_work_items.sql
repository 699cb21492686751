-- The agents' work (agent.md): each host or site a duty of the agents scans, when it is
-- next due (milliseconds since the epoch), and the run that holds it while it is scanned.
-- The hold is a lease: the run's heartbeat renews it, and when the run dies it runs out and
-- another agent takes the item. What the run will set as the next due time is kept with
-- the hold, so that storing the item's results and passing it on are one transaction; the
-- run that last finished it is kept, as a run takes an item once at most.
CREATE TABLE work_items (
    duty TEXT NOT NULL,
    item TEXT NOT NULL,
    zone TEXT NOT NULL DEFAULT '',
    due_ms BIGINT NOT NULL,
    run_id BIGINT,
    lease_until_ms BIGINT,
    next_due_ms BIGINT,
    done_run BIGINT,
    PRIMARY KEY (duty, item)
);
CREATE INDEX work_items_due ON work_items (duty, due_ms);
CREATE INDEX work_items_zone_due ON work_items (duty, zone, due_ms);
CREATE INDEX work_items_run ON work_items (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX work_items_done ON work_items (done_run) WHERE done_run IS NOT NULL;
