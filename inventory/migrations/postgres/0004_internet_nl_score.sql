-- A host's score as Internet.nl's IPv6 category computes it; NULL when the scan could not
-- decide it, and for grades stored before it existed.
ALTER TABLE host_levels ADD COLUMN internet_nl BIGINT;
