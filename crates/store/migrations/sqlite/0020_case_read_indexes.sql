-- Issue 15: reading one case. Its page and `GET /api/v1/cases/{id}` list the duplicates merged
-- into it (`Db::merged_into`), which scanned every case: `merged_into` had no index. Only merged
-- duplicates carry it, so the index holds those rows alone; `merged_into = $1` implies
-- `merged_into IS NOT NULL`, which lets both databases use it.
CREATE INDEX cases_merged_into ON cases (merged_into, id) WHERE merged_into IS NOT NULL;
