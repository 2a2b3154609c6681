-- Cases (事件/工单): the state machine's view as JSON (flow) beside the columns lists filter on,
-- and one event per change (the timeline). Case numbers count per day.
CREATE TABLE cases (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    case_no        TEXT NOT NULL UNIQUE,
    channel        TEXT NOT NULL,
    matter         TEXT NOT NULL,
    description    TEXT NOT NULL,
    address        TEXT,
    lon            REAL,
    lat            REAL,
    node_code      TEXT NOT NULL,
    grid_code      TEXT,
    community_code TEXT,
    street_code    TEXT,
    district_code  TEXT,
    reporter       TEXT NOT NULL,
    state          TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    lead_unit      TEXT,
    supervision    TEXT,
    next_deadline  TEXT,
    merged_into    TEXT,
    revision       INTEGER NOT NULL,
    flow           TEXT NOT NULL,
    reported_at    TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    closed_at      TEXT
);
CREATE INDEX cases_state ON cases (state, id);
CREATE INDEX cases_node ON cases (node_code, id);
CREATE INDEX cases_matter ON cases (matter, id);
CREATE INDEX cases_lead ON cases (lead_unit, id);
CREATE INDEX cases_deadline ON cases (outcome, next_deadline);
CREATE INDEX cases_reported ON cases (reported_at);
CREATE INDEX cases_place ON cases (matter, lat, lon);

CREATE TABLE case_events (
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    revision   INTEGER NOT NULL,
    at         TEXT NOT NULL,
    account    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (case_id, revision)
);

CREATE TABLE case_numbers (
    day         TEXT PRIMARY KEY,
    last_serial BIGINT NOT NULL
);

-- A retried submission with the same Idempotency-Key returns the first result.
CREATE TABLE idempotency_keys (
    account    TEXT NOT NULL,
    key        TEXT NOT NULL,
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (account, key)
);
