-- The audit record: append-only, each entry chained to the one before by a keyed MAC
-- (HMAC-SM3; the key lives in configuration, never here). See gongzhi_core::audit.
-- seq is the rowid (INTEGER PRIMARY KEY), so reading in seq order needs no extra index.
CREATE TABLE audit_entries (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
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
-- updating it, which takes the database's write lock (SQLite) or the row lock (PostgreSQL)
-- first, so concurrent appends queue up and never fork the chain.
CREATE TABLE audit_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    mac TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Defence in depth: the application never changes or removes an entry, and the database
-- refuses to. (The owner of the schema can drop these triggers; the MAC chain still shows it.)
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
