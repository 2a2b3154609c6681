-- Issue 16 (joint meetings that decide and follow through): the bodies of co-building (the street's
-- 大工委, the community's 大党委, a joint meeting …), each of a territory node, with their seats (a
-- person for an organization of the registry, by kind and id, in a role, for a term); agenda items
-- (议题) raised to a body from a source (a case, a resident's need …), with every step of their
-- journey; meetings (convened, held with attendance by seat, closed with minutes); decisions on
-- items and their assignments, each a case of the loop (channel `meeting`).
CREATE TABLE cogov_bodies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    node_code  TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (node_code, name)
);
CREATE TABLE cogov_seats (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    body_id    BIGINT NOT NULL REFERENCES cogov_bodies (id),
    person     TEXT NOT NULL,
    org_kind   TEXT NOT NULL,
    org_id     BIGINT NOT NULL,
    org_name   TEXT NOT NULL,
    role       TEXT NOT NULL,
    term_from  TEXT NOT NULL,
    term_to    TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX cogov_seats_body ON cogov_seats (body_id, id);
CREATE TABLE cogov_meetings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    body_id     BIGINT NOT NULL REFERENCES cogov_bodies (id),
    title       TEXT NOT NULL,
    place       TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    state       TEXT NOT NULL,
    minutes     TEXT,
    convened_by TEXT NOT NULL,
    convened_at TEXT NOT NULL,
    changed_at  TEXT NOT NULL
);
CREATE INDEX cogov_meetings_body ON cogov_meetings (body_id, id);
CREATE TABLE cogov_agenda_items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    body_id        BIGINT NOT NULL REFERENCES cogov_bodies (id),
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    source         TEXT NOT NULL,
    source_ref     TEXT,
    source_case_id BIGINT REFERENCES cases (id),
    state          TEXT NOT NULL,
    reason         TEXT,
    meeting_id     BIGINT REFERENCES cogov_meetings (id),
    raised_by      TEXT NOT NULL,
    raised_at      TEXT NOT NULL,
    changed_at     TEXT NOT NULL
);
CREATE INDEX cogov_agenda_items_body ON cogov_agenda_items (body_id, id);
CREATE INDEX cogov_agenda_items_case ON cogov_agenda_items (source_case_id);
CREATE INDEX cogov_agenda_items_meeting ON cogov_agenda_items (meeting_id);
-- The journey of an item: one row per step (raised, vetted, scheduled, discussed …), who and when.
CREATE TABLE cogov_agenda_steps (
    item_id BIGINT NOT NULL REFERENCES cogov_agenda_items (id),
    state   TEXT NOT NULL,
    by_who  TEXT NOT NULL,
    stepped_at TEXT NOT NULL,
    note    TEXT,
    PRIMARY KEY (item_id, state)
);
CREATE TABLE cogov_attendance (
    meeting_id BIGINT NOT NULL REFERENCES cogov_meetings (id),
    seat_id    BIGINT NOT NULL REFERENCES cogov_seats (id),
    present    BOOLEAN NOT NULL,
    PRIMARY KEY (meeting_id, seat_id)
);
CREATE TABLE cogov_decisions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id BIGINT NOT NULL REFERENCES cogov_meetings (id),
    item_id    BIGINT NOT NULL UNIQUE REFERENCES cogov_agenda_items (id),
    body       TEXT NOT NULL,
    due        TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX cogov_decisions_meeting ON cogov_decisions (meeting_id, id);
-- Each unit a decision assigns gets one case of the loop (channel `meeting`).
CREATE TABLE cogov_assignments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id BIGINT NOT NULL REFERENCES cogov_decisions (id),
    item_id     BIGINT NOT NULL REFERENCES cogov_agenda_items (id),
    unit        TEXT NOT NULL,
    case_id     BIGINT NOT NULL UNIQUE REFERENCES cases (id)
);
CREATE INDEX cogov_assignments_item ON cogov_assignments (item_id);
