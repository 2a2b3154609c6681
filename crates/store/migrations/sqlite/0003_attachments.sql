-- Photos attached to cases. The file itself lives in the data folder under
-- attachments/ab/cdef… (the SHA-256 of its bytes); this row says what it is and who first
-- uploaded it. The same content is one file and one row. Rows are never updated.
CREATE TABLE attachments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256     TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL CHECK (size > 0),
    width      BIGINT,
    height     BIGINT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
