-- Co-governance in the palm community (issue 5, items 3 and 4): the community a resident picked
-- once on `/m/`, and the notices and policy publicity staff publish to a community or one of its
-- grids. Notices are never deleted: withdrawing one keeps it, with who withdrew it and when.
ALTER TABLE residents ADD COLUMN community_code TEXT;
CREATE TABLE cogov_notices (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    community_code TEXT NOT NULL,
    grid_code      TEXT,
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    published_by   TEXT NOT NULL,
    published_at   TEXT NOT NULL,
    expires_at     TEXT,
    withdrawn_by   TEXT,
    withdrawn_at   TEXT
);
CREATE INDEX cogov_notices_community ON cogov_notices (community_code, id);
-- Simple surveys (问卷) of a community: single-choice and free-text questions (JSON), drafted,
-- opened and closed by staff; each resident answers once (the key refuses a second answer).
CREATE TABLE cogov_surveys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    community_code TEXT NOT NULL,
    title          TEXT NOT NULL,
    questions      TEXT NOT NULL,
    state          TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX cogov_surveys_community ON cogov_surveys (community_code, id);
CREATE TABLE cogov_survey_answers (
    survey_id   BIGINT NOT NULL REFERENCES cogov_surveys (id),
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    answers     TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (survey_id, resident_id)
);
