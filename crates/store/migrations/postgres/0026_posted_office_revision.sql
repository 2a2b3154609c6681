-- Posted offices (派驻机构) are corrected like the other registry organizations (issue 16): a
-- revision per row, as migration 0016 gave the others, so that an edit made on a stale form is
-- refused instead of silently overwriting someone else's.
ALTER TABLE posted_offices ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
