-- Issue 5 (residents' phone portal), the rest: residents follow public cases near them ("me too",
-- 我也遇到/关注), and post needs (居民点单) that community staff take through their states.
-- Following twice is one follow (the key); unfollowing deletes the row (the audit keeps both).
CREATE TABLE case_followers (
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    followed_at TEXT NOT NULL,
    PRIMARY KEY (case_id, resident_id)
);
CREATE INDEX case_followers_resident ON case_followers (resident_id, followed_at);
-- The nearby list of a community: open cases of a community, newest first.
CREATE INDEX cases_community_open ON cases (community_code, outcome, id);
-- Residents' needs (居民点单): a kind from the city's list, a description, an optional preferred
-- time; the state (ordered, listed, declined, fulfilled) with the reason of a decline or the note
-- of a fulfilment, who changed it last and when. One form (its key) makes one need.
CREATE TABLE cogov_orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    community_code  TEXT NOT NULL,
    resident_id     BIGINT NOT NULL REFERENCES residents (id),
    idempotency_key TEXT NOT NULL,
    kind            TEXT NOT NULL,
    description     TEXT NOT NULL,
    preferred_time  TEXT,
    state           TEXT NOT NULL,
    state_note      TEXT,
    ordered_at      TEXT NOT NULL,
    changed_by      TEXT,
    changed_at      TEXT,
    UNIQUE (resident_id, idempotency_key)
);
CREATE INDEX cogov_orders_community ON cogov_orders (community_code, id);
