-- The territory tree. Nodes are versioned and never deleted: a change closes the current
-- version (valid_to) and adds a new one. Boundaries are GeoJSON geometry text (WGS-84).
CREATE TABLE territory_nodes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_code TEXT,
    households  BIGINT,
    boundary    TEXT,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    recorded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX territory_nodes_current_code ON territory_nodes (code) WHERE valid_to IS NULL;
CREATE INDEX territory_nodes_current_parent ON territory_nodes (parent_code) WHERE valid_to IS NULL;
CREATE INDEX territory_nodes_current_level ON territory_nodes (level, code) WHERE valid_to IS NULL;
CREATE INDEX territory_nodes_history ON territory_nodes (code, valid_from);

-- Bumped in the same transaction as every change to grids, so that servers know when to
-- rebuild their point-in-grid index.
CREATE TABLE territory_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO territory_revision (id, revision) VALUES (1, 0);
