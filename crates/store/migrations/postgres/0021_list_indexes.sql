-- Issue 15 (lists that do not slow down with the city): every filter the case lists offer, in
-- every order they offer, read from an index in order, so a page reads its 50 rows (plus what the
-- reader's scope skips) instead of sorting every match. The newest/oldest orders walk `id`; the
-- deadline order walks (next_deadline, id) for the cases with a deadline, then `id` for the rest.
-- See docs/PERFORMANCE.md, "Reads (issue 15): lists", for the plans on both databases.

-- The deadline order of any filter; with a state or an outcome (the inboxes, "overdue").
CREATE INDEX cases_deadline_order ON cases (next_deadline, id);
CREATE INDEX cases_state_deadline_order ON cases (state, next_deadline, id);
-- Open311's status (open/closed) within its window, newest reported first; its
-- updated_after/updated_before.
CREATE INDEX cases_outcome_reported ON cases (outcome, reported_at, id);
CREATE INDEX cases_updated ON cases (updated_at, id);
-- Reported from/to: the window's rows by id (PostgreSQL's index has no implicit id).
CREATE INDEX cases_reported_order ON cases (reported_at, id);
-- Supervised cases are few: a partial index lists them newest first.
CREATE INDEX cases_supervised ON cases (id) WHERE supervision IS NOT NULL;
-- Matter, lead unit, channel with the deadline order.
CREATE INDEX cases_matter_deadline ON cases (matter, next_deadline, id);
CREATE INDEX cases_lead_deadline ON cases (lead_unit, next_deadline, id);
-- A deep numbered page skips its rows in a subquery of ids (a "deferred join"): for the city-wide
-- list this index holds both the order and the reader's scope, so the skipped rows are not read
-- from the table.
CREATE INDEX cases_id_node ON cases (id, node_code);
