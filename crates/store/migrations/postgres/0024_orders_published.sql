-- Order → publish → take (社区发单, 单位接单): a need the community published is a case of the loop
-- (`case_id`, channel `order`) with a date to deliver by; the member organization that took it and
-- the liaison who did; the resident's rating of the taker (the case's follow-up) and the taker's
-- rating back (双向评议), each with a comment.
ALTER TABLE cogov_orders ADD COLUMN case_id BIGINT REFERENCES cases (id);
ALTER TABLE cogov_orders ADD COLUMN due DATE;
ALTER TABLE cogov_orders ADD COLUMN taker_org_id BIGINT REFERENCES member_organizations (id);
ALTER TABLE cogov_orders ADD COLUMN taken_by TEXT;
ALTER TABLE cogov_orders ADD COLUMN taken_at TIMESTAMPTZ;
ALTER TABLE cogov_orders ADD COLUMN rating TEXT;
ALTER TABLE cogov_orders ADD COLUMN rating_comment TEXT;
ALTER TABLE cogov_orders ADD COLUMN taker_rating TEXT;
ALTER TABLE cogov_orders ADD COLUMN taker_comment TEXT;
CREATE UNIQUE INDEX cogov_orders_case ON cogov_orders (case_id);
CREATE INDEX cogov_orders_taker ON cogov_orders (taker_org_id, id);
CREATE INDEX cogov_orders_state ON cogov_orders (state, id);
