-- Staff sign-in for the web pages: server-side sessions (the cookie holds a random secret, the
-- table its SHA-256), the CSRF token of each session, and the account state the security policy
-- needs (failed attempts, lockout, password age, a forced change).
ALTER TABLE accounts ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TEXT;
ALTER TABLE accounts ADD COLUMN password_changed_at TEXT;
ALTER TABLE accounts ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE sessions (
    secret_hash  TEXT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);
