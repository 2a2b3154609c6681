-- Issue 14, sign-in under attack. Failed sign-ins are counted per user name and source address,
-- so that failures from one address lock only that address out of that name (an attacker can no
-- longer lock the owner, or the security administrator, out); names nobody has are counted the
-- same way, so a lockout does not tell whether a name exists. The account-wide counter and lock
-- go. API tokens get an idle limit (last use) and can be revoked.
CREATE TABLE sign_in_failures (
    username       TEXT NOT NULL,
    source         TEXT NOT NULL,
    failures       BIGINT NOT NULL,
    last_failed_at TEXT NOT NULL,
    locked_until   TEXT,
    PRIMARY KEY (username, source)
);
ALTER TABLE accounts DROP COLUMN failed_sign_ins;
ALTER TABLE accounts DROP COLUMN locked_until;
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
UPDATE api_tokens SET last_used_at = created_at;
