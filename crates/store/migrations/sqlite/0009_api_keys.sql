-- API keys of integrations (Open311 clients): one per integration, created by a system
-- administrator, shown once and stored as its SHA-256; scoped to a territory subtree and to the
-- calls it may make; revoked, never deleted, so that the cases it reported stay attributable.
CREATE TABLE api_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    key_hash       TEXT NOT NULL UNIQUE,
    scope_code     TEXT NOT NULL,
    calls          TEXT NOT NULL,
    rate_per_minute BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    revoked_at     TEXT,
    last_used_at   TEXT
);
