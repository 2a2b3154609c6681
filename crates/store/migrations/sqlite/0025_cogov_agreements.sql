-- Issue 16 item 4: co-building agreements (共建协议) between a community (territory code) and a
-- member organization of the registry: a term, the state (active, renewed by a newer agreement
-- that `renews` it, ended with a reason; "expired" is computed from the term), commitments each
-- under a mechanism of data/qitaihe/co-building.toml, cross-appointments (交叉任职), talent
-- pairings (人才结对), and records of what was done under a commitment.
CREATE TABLE cogov_agreements (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    community_code    TEXT NOT NULL,
    organization_id   BIGINT NOT NULL REFERENCES member_organizations (id),
    organization_name TEXT NOT NULL,
    term_from         TEXT NOT NULL,
    term_to           TEXT NOT NULL,
    state             TEXT NOT NULL,
    renews            BIGINT UNIQUE REFERENCES cogov_agreements (id),
    end_reason        TEXT,
    signed_by         TEXT NOT NULL,
    signed_at         TEXT NOT NULL,
    changed_at        TEXT NOT NULL
);
CREATE INDEX cogov_agreements_community ON cogov_agreements (community_code, id);
CREATE INDEX cogov_agreements_organization ON cogov_agreements (organization_id, id);
CREATE TABLE cogov_agreement_commitments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id BIGINT NOT NULL REFERENCES cogov_agreements (id),
    mechanism    TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX cogov_agreement_commitments_agreement ON cogov_agreement_commitments (agreement_id, id);
CREATE TABLE cogov_agreement_appointments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id      BIGINT NOT NULL REFERENCES cogov_agreements (id),
    person            TEXT NOT NULL,
    organization_post TEXT NOT NULL,
    community_post    TEXT NOT NULL
);
CREATE INDEX cogov_agreement_appointments_agreement ON cogov_agreement_appointments (agreement_id, id);
CREATE TABLE cogov_agreement_pairings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id  BIGINT NOT NULL REFERENCES cogov_agreements (id),
    first_person  TEXT NOT NULL,
    second_person TEXT NOT NULL,
    subject       TEXT NOT NULL
);
CREATE INDEX cogov_agreement_pairings_agreement ON cogov_agreement_pairings (agreement_id, id);
CREATE TABLE cogov_agreement_records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id  BIGINT NOT NULL REFERENCES cogov_agreements (id),
    commitment_id BIGINT NOT NULL REFERENCES cogov_agreement_commitments (id),
    done_on       TEXT NOT NULL,
    body          TEXT NOT NULL,
    people        BIGINT,
    recorded_by   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL
);
CREATE INDEX cogov_agreement_records_agreement ON cogov_agreement_records (agreement_id, id);
