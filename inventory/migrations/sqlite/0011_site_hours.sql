-- History without bloat (engine.md): once a site's samples are older than scan.retention,
-- each hour of them is kept here as one row (`hour` is its start, UTC): how many polls,
-- per value they measured the min, avg, max and count (`stats`, a JSON object with a key
-- only for the values some poll had), and the state of its last poll and the worst of its
-- polls. Of the raw samples only the hour's last, each change of state and each site's
-- newest stay.
CREATE TABLE site_hours (
    site TEXT NOT NULL,
    hour TEXT NOT NULL,
    polls INTEGER NOT NULL,
    stats TEXT NOT NULL,
    last_state TEXT NOT NULL,
    worst_state TEXT NOT NULL,
    PRIMARY KEY (site, hour)
);
