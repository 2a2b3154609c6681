-- Residents who sign in on their phones with a one-time code (issue 5). The phone number is never
-- stored in clear: `phone_hash` is its HMAC under a server key (for lookup), `phone_masked` the
-- 前3后4 form (for display). Codes are kept as keyed hashes with their expiry and failed tries.
-- Resident sessions are apart from staff sessions (cookie `gz_resident`).
CREATE TABLE residents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    phone_hash      TEXT NOT NULL UNIQUE,
    phone_masked    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_sign_in_at TEXT
);
CREATE TABLE resident_codes (
    phone_hash  TEXT PRIMARY KEY,
    code_hash   TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE resident_sessions (
    secret_hash  TEXT PRIMARY KEY,
    resident_id  BIGINT NOT NULL REFERENCES residents (id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX resident_sessions_resident ON resident_sessions (resident_id);
-- "My reports": a resident's cases by reporter.
CREATE INDEX cases_reporter ON cases (reporter, id);
