-- Grid workers' patrols (巡查, issue 5): a start, an end (none while under way), the track's
-- points as the phone's browser sent them (WGS-84 degrees, with the reported accuracy in metres),
-- and the length in metres, summed point to point as points arrive.
CREATE TABLE patrols (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    length_m    REAL NOT NULL DEFAULT 0,
    point_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX patrols_account ON patrols (account, id);
CREATE TABLE patrol_points (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    patrol_id  BIGINT NOT NULL REFERENCES patrols (id),
    at         TEXT NOT NULL,
    lon        REAL NOT NULL,
    lat        REAL NOT NULL,
    accuracy_m REAL
);
CREATE INDEX patrol_points_patrol ON patrol_points (patrol_id, id);
