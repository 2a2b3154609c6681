-- The audit record: append-only, each entry chained to the one before by a keyed MAC
-- (HMAC-SM3; the key lives in configuration, never here). See gongzhi_core::audit.
CREATE TABLE audit_entries (
    seq          BIGINT PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    detail       TEXT NOT NULL,
    prev_mac     TEXT NOT NULL,
    mac          TEXT NOT NULL
);
CREATE INDEX audit_entries_subject ON audit_entries (subject_kind, subject_id);

-- The chain's end, one row, moved in the same transaction as each append. Appending starts by
-- updating it, which takes the row lock: concurrent appends queue up behind it (READ
-- COMMITTED re-reads the committed row) and never fork the chain.
CREATE TABLE audit_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    mac TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Defence in depth: the application never changes or removes an entry, and the database
-- refuses to. (The owner of the schema can drop these triggers; the MAC chain still shows it.
-- In production the application's role should also lack UPDATE, DELETE and TRUNCATE on it.)
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only';
END
$$;
CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();
