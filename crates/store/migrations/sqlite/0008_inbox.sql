-- Inboxes: pending requests and unanswered whistle summonses as listed columns (`,return,`,
-- `,department:housing,`), so that an inbox is one indexed query instead of reading every flow.
ALTER TABLE cases ADD COLUMN pending_requests TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN summoned TEXT NOT NULL DEFAULT '';

UPDATE cases SET
    pending_requests = COALESCE(
        (SELECT ',' || group_concat(json_extract(p.value, '$.kind'), ',') || ','
         FROM json_each(cases.flow, '$.pending') AS p), ''),
    summoned = COALESCE(
        (SELECT ',' || group_concat('department:' || json_extract(s.value, '$.department'), ',') || ','
         FROM json_each(cases.flow, '$.whistles') AS w, json_each(w.value, '$.summons') AS s
         WHERE json_extract(s.value, '$.arrived_at') IS NULL), '')
WHERE outcome = 'open';

-- Lists sort by the next deadline within a state, and page through a channel newest first.
CREATE INDEX cases_open_deadline ON cases (state, next_deadline);
CREATE INDEX cases_channel ON cases (channel, id);
