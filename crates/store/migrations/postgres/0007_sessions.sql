-- Staff sign-in for the web pages: server-side sessions (the cookie holds a random secret, the
-- table its SHA-256), the CSRF token of each session, and the account state the security policy
-- needs (failed attempts, lockout, password age, a forced change).
ALTER TABLE accounts ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN password_changed_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE sessions (
    secret_hash  TEXT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ
);
CREATE INDEX sessions_account ON sessions (account_id);
