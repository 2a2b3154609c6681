-- The registry (issue 7): compounds, buildings, entrances and households tied to the territory
-- tree; the people living in them (实有人口: `resident_records`, because `residents` already names
-- the phone-signed-in accounts of the /m/ portal); member organizations, posted offices, property
-- companies, owners' committees, party organizations and party members; staff assignments.
--
-- Personal data is never stored in clear. Columns ending in `_sealed` hold SM4-GCM sealed values
-- (base64, a random nonce per value, authenticated with the context `table.column`, see
-- gongzhi_core::people::cipher); columns ending in `_index` hold the keyed HMAC-SM3 index of the
-- normalised value, for exact lookup. The key is never in the database.
CREATE TABLE compounds (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    community_code TEXT NOT NULL,
    street_code    TEXT NOT NULL,
    address        TEXT NOT NULL,
    lon            DOUBLE PRECISION,
    lat            DOUBLE PRECISION,
    property_company_id BIGINT,
    created_at     TEXT NOT NULL
);
CREATE INDEX compounds_community ON compounds (community_code, name);
CREATE TABLE buildings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    code           TEXT NOT NULL UNIQUE,
    compound_id    BIGINT REFERENCES compounds (id),
    grid_code      TEXT NOT NULL,
    community_code TEXT NOT NULL,
    street_code    TEXT NOT NULL,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    floors         BIGINT NOT NULL,
    lon            DOUBLE PRECISION,
    lat            DOUBLE PRECISION,
    created_at     TEXT NOT NULL
);
CREATE INDEX buildings_grid ON buildings (grid_code, code);
CREATE INDEX buildings_community ON buildings (community_code, code);
CREATE INDEX buildings_compound ON buildings (compound_id);
CREATE TABLE entrances (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    building_id BIGINT NOT NULL REFERENCES buildings (id),
    number      BIGINT NOT NULL,
    UNIQUE (building_id, number)
);
-- `code` is the building's code and a serial, never the room; the room (an exact address of
-- people) is sealed.
CREATE TABLE households (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    code           TEXT NOT NULL UNIQUE,
    building_id    BIGINT NOT NULL REFERENCES buildings (id),
    entrance_id    BIGINT REFERENCES entrances (id),
    grid_code      TEXT NOT NULL,
    community_code TEXT NOT NULL,
    street_code    TEXT NOT NULL,
    room_sealed    TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX households_building ON households (building_id, id);
CREATE INDEX households_grid ON households (grid_code, id);
CREATE TABLE resident_records (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id              BIGINT NOT NULL REFERENCES households (id),
    grid_code                 TEXT NOT NULL,
    community_code            TEXT NOT NULL,
    street_code               TEXT NOT NULL,
    name                      TEXT NOT NULL,
    gender                    TEXT NOT NULL,
    relation                  TEXT NOT NULL,
    residence                 TEXT NOT NULL,
    id_number_sealed          TEXT NOT NULL,
    id_number_index           TEXT NOT NULL UNIQUE,
    phone_sealed              TEXT,
    phone_index               TEXT,
    registered_address_sealed TEXT,
    care_tags_sealed          TEXT NOT NULL,
    party_member_sealed       TEXT NOT NULL,
    revision                  BIGINT NOT NULL DEFAULT 0,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);
CREATE INDEX resident_records_household ON resident_records (household_id, id);
CREATE INDEX resident_records_phone ON resident_records (phone_index);
CREATE INDEX resident_records_name ON resident_records (community_code, name);
CREATE INDEX resident_records_grid ON resident_records (grid_code, id);
CREATE TABLE property_companies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    credit_code TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    phone       TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE owners_committees (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    compound_id BIGINT NOT NULL UNIQUE REFERENCES compounds (id),
    name        TEXT NOT NULL,
    members     BIGINT NOT NULL,
    elected_on  TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE member_organizations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    credit_code    TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    community_code TEXT,
    street_code    TEXT NOT NULL,
    address        TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX member_organizations_street ON member_organizations (street_code, name);
CREATE TABLE posted_offices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    department_code TEXT NOT NULL,
    name            TEXT NOT NULL,
    street_code     TEXT NOT NULL,
    address         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (department_code, street_code)
);
CREATE TABLE party_organizations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    parent_id       BIGINT REFERENCES party_organizations (id),
    territory_code  TEXT NOT NULL,
    organization_id BIGINT REFERENCES member_organizations (id),
    created_at      TEXT NOT NULL
);
CREATE INDEX party_organizations_territory ON party_organizations (territory_code);
CREATE INDEX party_organizations_parent ON party_organizations (parent_id);
-- Party membership is personal data: a member's name, ID number and phone are sealed; lookup by
-- ID number through its index. Counts per organization and community need nothing opened.
CREATE TABLE party_members (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    party_organization_id    BIGINT NOT NULL REFERENCES party_organizations (id),
    residence_community_code TEXT NOT NULL,
    kind                     TEXT NOT NULL,
    employer_id              BIGINT REFERENCES member_organizations (id),
    name_sealed              TEXT NOT NULL,
    id_number_sealed         TEXT NOT NULL,
    id_number_index          TEXT NOT NULL UNIQUE,
    phone_sealed             TEXT,
    phone_index              TEXT,
    checked_in_on            TEXT,
    created_at               TEXT NOT NULL
);
CREATE INDEX party_members_community ON party_members (residence_community_code, id);
CREATE INDEX party_members_organization ON party_members (party_organization_id, id);
-- Grid workers to grids, building chiefs to buildings, entrance chiefs to entrances. A chief is
-- often a resident without an account: `account` is then empty and the phone is sealed.
CREATE TABLE staff_assignments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    person_name    TEXT NOT NULL,
    account        TEXT,
    phone_sealed   TEXT,
    community_code TEXT NOT NULL,
    grid_code      TEXT,
    building_id    BIGINT REFERENCES buildings (id),
    entrance_id    BIGINT REFERENCES entrances (id),
    assigned_at    TEXT NOT NULL
);
CREATE INDEX staff_assignments_grid ON staff_assignments (grid_code);
CREATE INDEX staff_assignments_building ON staff_assignments (building_id);
