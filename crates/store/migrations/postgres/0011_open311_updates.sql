-- Updates posted by integrations through Open311's servicerequestupdates (FixMyStreet's
-- extension): one row per (key, update_id), so a repeated update_id answers with the note it
-- made the first time and never adds a second. The note itself is the case's timeline event
-- (case_id, revision).
CREATE TABLE open311_updates (
    api_key_id  BIGINT NOT NULL REFERENCES api_keys (id),
    update_id   TEXT NOT NULL,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    revision    INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (api_key_id, update_id)
);
-- GET servicerequestupdates lists timeline events by time.
CREATE INDEX case_events_at ON case_events (at);
