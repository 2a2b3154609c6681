-- Registry edits (issue 7): the three template columns that had no place (a building's use, a
-- household's floor area, a party member's joining date, sealed as party data is), and a
-- revision per editable row so that an edit made on a stale form is refused instead of
-- silently overwriting someone else's.
ALTER TABLE buildings ADD COLUMN use_kind TEXT NOT NULL DEFAULT 'residential';
ALTER TABLE buildings ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE households ADD COLUMN area_m2 BIGINT;
ALTER TABLE households ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE compounds ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE owners_committees ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE member_organizations ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE property_companies ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE party_organizations ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE party_members ADD COLUMN joined_on_sealed TEXT;
ALTER TABLE party_members ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
-- The outline of a compound or building imported from a GeoJSON Polygon or MultiPolygon (the
-- geometry as GeoJSON text, WGS-84), beside its point; exported again as the outline.
ALTER TABLE compounds ADD COLUMN outline TEXT;
ALTER TABLE buildings ADD COLUMN outline TEXT;
