-- Staff accounts, the roles they hold at a scope, and API bearer tokens (stored hashed).
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL
);
CREATE TABLE account_grants (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    role       TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_code TEXT NOT NULL,
    PRIMARY KEY (account_id, role, scope_kind, scope_code)
);
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);
