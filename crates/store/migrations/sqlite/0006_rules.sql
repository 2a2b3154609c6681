-- Rules as data at run time. Versions of the responsibility list are kept whole (the canonical
-- CSV text the core reads back) and never changed; the one in force on a day is the latest whose
-- valid_from is on or before it. Official calendar days are kept by year (an import of a year
-- replaces that year); the city's overlay days beside them (layer = 'overlay').
CREATE TABLE responsibility_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     TEXT NOT NULL UNIQUE,
    valid_from  TEXT NOT NULL UNIQUE,
    csv         TEXT NOT NULL,
    rules       BIGINT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);

CREATE TABLE calendar_days (
    layer       TEXT NOT NULL CHECK (layer IN ('official', 'overlay')),
    day         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (layer, day)
);

-- Years that have official data, even a year whose file listed only a few days.
CREATE TABLE calendar_years (
    year        BIGINT PRIMARY KEY,
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);

-- Bumped in the same transaction as every change to the rules, so that servers know when to
-- reload their rules in force.
CREATE TABLE rules_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO rules_revision (id, revision) VALUES (1, 0);
