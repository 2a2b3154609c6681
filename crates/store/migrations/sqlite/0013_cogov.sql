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
-- Community groups (社群): staff create one for a community, a grid or a building (named within
-- the community or grid); residents of the community join, post and reply; community staff hide
-- a post or reply with a reason (kept, with who and when). Residents show under a display name
-- they chose, never their phone.
ALTER TABLE residents ADD COLUMN display_name TEXT;
CREATE TABLE cogov_groups (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    community_code TEXT NOT NULL,
    place_code     TEXT NOT NULL,
    name           TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (place_code, name)
);
CREATE TABLE cogov_group_members (
    group_id    BIGINT NOT NULL REFERENCES cogov_groups (id),
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    joined_at   TEXT NOT NULL,
    PRIMARY KEY (group_id, resident_id)
);
CREATE TABLE cogov_posts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id      BIGINT NOT NULL REFERENCES cogov_groups (id),
    parent_id     BIGINT REFERENCES cogov_posts (id),
    resident_id   BIGINT NOT NULL REFERENCES residents (id),
    body          TEXT NOT NULL,
    posted_at     TEXT NOT NULL,
    hidden_by     TEXT,
    hidden_at     TEXT,
    hidden_reason TEXT
);
CREATE INDEX cogov_posts_group ON cogov_posts (group_id, id);
